"""CUT's ``PatchSampleF``: sample the same spatial positions in every layer and project them."""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmdet.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor, nn

from .cut_init import cut_init_cfg


@MODELS.register_module()
class PatchSampleMLP(BaseModule):
    """Per layer: pick ``num_patches`` random positions (shared by all images of the batch and by
    query and key), apply ``Linear(C, D) → ReLU → Linear(D, D)``, L2-normalise.

    CUT builds the MLPs lazily at the first forward; here the channels are known from the encoder
    so they are built eagerly, which keeps the optimiser construction ordinary.

    Args:
        in_channels (Sequence[int]): channels of the sampled layers.
        num_patches (int): positions per layer (256); all positions if a layer has fewer.
        embed_dim (int): D (256).
    """

    def __init__(self, in_channels: Sequence[int], num_patches: int = 256, embed_dim: int = 256,
                 init_cfg=cut_init_cfg('Linear')) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_patches < 1:
            raise ValueError(f'PatchSampleMLP: num_patches must be >= 1, got {num_patches}')
        self.num_patches = num_patches
        self.mlps = nn.ModuleList(
            nn.Sequential(nn.Linear(c, embed_dim), nn.ReLU(inplace=True),
                          nn.Linear(embed_dim, embed_dim)) for c in in_channels)

    def forward(self,
                feats: Sequence[Tensor],
                patch_ids: Optional[Sequence[Tensor]] = None) -> Tuple[List[Tensor], List[Tensor]]:
        """Sample and project.

        Args:
            feats (Sequence[Tensor]): per layer (B, C_l, H_l, W_l).
            patch_ids (Sequence[Tensor], optional): per layer (P_l,) flat positions; drawn when None
                (on the keys), reused for the queries.

        Returns:
            tuple: per layer embeddings (B, P_l, D), unit norm, and the positions used.
        """
        if len(feats) != len(self.mlps):
            raise ValueError(f'expected {len(self.mlps)} feature maps, got {len(feats)}')
        embeddings, used_ids = [], []
        for layer, (feat, mlp) in enumerate(zip(feats, self.mlps)):
            flat = feat.flatten(2).transpose(1, 2)  # (B, H·W, C)
            if patch_ids is None:
                ids = torch.randperm(flat.shape[1], device=feat.device)[:self.num_patches]
            else:
                ids = patch_ids[layer]
            embeddings.append(F.normalize(mlp(flat[:, ids]), dim=-1, eps=1e-7))
            used_ids.append(ids)
        return embeddings, used_ids
