"""PatchNCE loss of CUT (Park et al., 2020), exactly as ``models/patchnce.py`` with
``nce_includes_all_negatives_from_minibatch=False``."""
from typing import Sequence

import torch
import torch.nn.functional as F
from mmdet.registry import MODELS
from torch import Tensor, nn


def patch_nce_loss(query: Tensor, key: Tensor, temperature: float = 0.07) -> Tensor:
    """InfoNCE between patches of the translation (queries) and the input (keys).

    The positive of query ``i`` is key ``i`` of the same image; the negatives are the other keys of
    that image only. As in CUT, the positive's own entry in the negative block is set to −10
    (similarity units) instead of being removed, and the keys are detached.

    Args:
        query (Tensor): (B, P, D) unit-norm embeddings of G(x).
        key (Tensor): (B, P, D) unit-norm embeddings of x at the same positions.
        temperature (float): τ (0.07).

    Returns:
        Tensor: (B·P,) per-patch loss.
    """
    key = key.detach()
    num_patches = query.shape[1]
    positive = (query * key).sum(dim=-1, keepdim=True)  # (B, P, 1)
    negative = torch.bmm(query, key.transpose(1, 2))  # (B, P, P)
    diagonal = torch.eye(num_patches, dtype=torch.bool, device=query.device)[None]
    negative = negative.masked_fill(diagonal, -10.0)
    logits = torch.cat([positive, negative], dim=2).flatten(0, 1) / temperature
    target = torch.zeros(logits.shape[0], dtype=torch.long, device=query.device)
    return F.cross_entropy(logits, target, reduction='none')


@MODELS.register_module()
class PatchNCELoss(nn.Module):
    """``loss_weight · mean over layers of mean over patches`` of :func:`patch_nce_loss`.

    Args:
        temperature (float): τ (0.07).
        loss_weight (float): λ_NCE (1).
    """

    def __init__(self, temperature: float = 0.07, loss_weight: float = 1.0) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f'PatchNCELoss: temperature must be > 0, got {temperature}')
        self.temperature = temperature
        self.loss_weight = loss_weight

    def forward(self, queries: Sequence[Tensor], keys: Sequence[Tensor]) -> Tensor:
        """Per layer (B, P_l, D) queries and keys → scalar."""
        losses = [patch_nce_loss(q, k, self.temperature).mean() for q, k in zip(queries, keys)]
        return self.loss_weight * torch.stack(losses).mean()
