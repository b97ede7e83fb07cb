"""Local-global contrastive loss L_GA (Triantafyllidou et al., BMVC 2024, Eq. 5; DetCo pairing).

For each supervised layer ``l`` with weight ``w_l``, queries come from the online branch (E_B → G_A
→ heads) on view 1 and keys from the momentum branch on view 2; negatives come from MoCo queues:

* g↔g: global query vs global key, global queue;
* l↔g: local query vs global key, global queue;
* l↔l: local query vs local key, local queue.

The queues start empty; slots that hold no key yet contribute nothing.

``L_GA = Σ_l w_l (L_gg + L_lg + L_ll)``.
"""
from typing import Dict, Optional, Sequence

import torch
import torch.nn.functional as F
from mmdet.registry import MODELS
from torch import Tensor, nn

from ..utils import FeatureQueue


def queue_info_nce(query: Tensor, key: Tensor, queue: Tensor, temperature: float,
                   queue_mask: Optional[Tensor] = None) -> Tensor:
    """``−log exp(q·k/τ) / (exp(q·k/τ) + Σ_j exp(q·n_j/τ))`` with negatives ``n_j`` from a queue.

    Args:
        query (Tensor): (N, D) unit-norm queries.
        key (Tensor): (N, D) unit-norm positive keys (detached here).
        queue (Tensor): (K, D) unit-norm negatives.
        temperature (float): τ.
        queue_mask (Tensor, optional): (K,) bool, False for the slots that hold no key yet:
            their logits are −inf, so they are not in the sum (:attr:`FeatureQueue.filled`).

    Returns:
        Tensor: (N,) per-query loss.
    """
    key = key.detach()
    positive = (query * key).sum(dim=1, keepdim=True)  # (N, 1)
    negative = query @ queue.detach().t()  # (N, K)
    if queue_mask is not None:
        negative = negative.masked_fill(~queue_mask, float('-inf'))
    logits = torch.cat([positive, negative], dim=1) / temperature
    target = torch.zeros(query.shape[0], dtype=torch.long, device=query.device)
    return F.cross_entropy(logits, target, reduction='none')


def local_global_nce(query_global: Tensor, query_local: Tensor, key_global: Tensor,
                     key_local: Tensor, global_queue: Tensor, local_queue: Tensor,
                     temperature: float, global_mask: Optional[Tensor] = None,
                     local_mask: Optional[Tensor] = None) -> Dict[str, Tensor]:
    """The three L_GA terms of one layer.

    Args:
        query_global, query_local (Tensor): (N, D) online embeddings of view 1 / of its patches.
        key_global, key_local (Tensor): (N, D) momentum embeddings of view 2 / of its patches.
        global_queue, local_queue (Tensor): (K, D) past momentum embeddings.
        temperature (float): τ.
        global_mask, local_mask (Tensor, optional): (K,) bool, the filled slots of each queue.

    Returns:
        dict: scalars ``gg``, ``lg``, ``ll``.
    """
    return dict(
        gg=queue_info_nce(query_global, key_global, global_queue, temperature, global_mask).mean(),
        lg=queue_info_nce(query_local, key_global, global_queue, temperature, global_mask).mean(),
        ll=queue_info_nce(query_local, key_local, local_queue, temperature, local_mask).mean())


@MODELS.register_module()
class LocalGlobalContrastiveLoss(nn.Module):
    """Weighted sum over layers of :func:`local_global_nce`, holding the MoCo queues.

    The global and the local queue are each a :class:`FeatureQueue` of ``(L, D)`` keys, one
    per supervised layer; they start empty. Call :meth:`enqueue` with the keys after the loss
    so the current keys never serve as their own negatives.

    Args:
        layer_weights (Sequence[float]): w_l, one per supervised layer (0.1, 0.4, 0.7, 1.0).
        embed_dim (int): D of the projection heads.
        queue_size (int): K, negatives per queue.
        temperature (float): τ.
        loss_weight (float): overall weight of L_GA (1).
    """

    def __init__(self,
                 layer_weights: Sequence[float] = (0.1, 0.4, 0.7, 1.0),
                 embed_dim: int = 128,
                 queue_size: int = 65536,
                 temperature: float = 0.2,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if queue_size < 1:
            raise ValueError('LocalGlobalContrastiveLoss: queue_size must be >= 1, '
                             f'got {queue_size}')
        if temperature <= 0:
            raise ValueError('LocalGlobalContrastiveLoss: temperature must be > 0, '
                             f'got {temperature}')
        self.layer_weights = tuple(layer_weights)
        self.temperature = temperature
        self.loss_weight = loss_weight
        num_layers = len(self.layer_weights)
        self.global_queue = FeatureQueue(queue_size, (num_layers, embed_dim))
        self.local_queue = FeatureQueue(queue_size, (num_layers, embed_dim))

    def forward(self, query_globals: Sequence[Tensor], query_locals: Sequence[Tensor],
                key_globals: Sequence[Tensor], key_locals: Sequence[Tensor]) -> Dict[str, Tensor]:
        """Per layer (N, D) embeddings → ``loss_lg_gg``, ``loss_lg_lg``, ``loss_lg_ll`` scalars."""
        if len(query_globals) != len(self.layer_weights):
            raise ValueError(f'expected {len(self.layer_weights)} layers (one per layer weight), '
                             f'got {len(query_globals)}')
        totals = dict(gg=0., lg=0., ll=0.)
        global_mask, local_mask = self.global_queue.filled, self.local_queue.filled
        for layer, weight in enumerate(self.layer_weights):
            terms = local_global_nce(query_globals[layer], query_locals[layer], key_globals[layer],
                                     key_locals[layer], self.global_queue.features[:, layer],
                                     self.local_queue.features[:, layer], self.temperature,
                                     global_mask, local_mask)
            for name, value in terms.items():
                totals[name] = totals[name] + weight * value
        return {f'loss_lg_{name}': self.loss_weight * value for name, value in totals.items()}

    def enqueue(self, key_globals: Sequence[Tensor], key_locals: Sequence[Tensor]) -> None:
        """Write the (N, D) keys of every layer over the oldest queue entries (ring buffer)."""
        self.global_queue.enqueue(torch.stack(list(key_globals), dim=1))
        self.local_queue.enqueue(torch.stack(list(key_locals), dim=1))
