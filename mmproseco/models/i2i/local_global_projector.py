"""Global and local projection heads of the local-global loss (one pair per supervised layer)."""
from typing import List, Sequence

import torch.nn.functional as F
from mmdet.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor, nn


def _mlp(in_dim: int, hidden_dim: int, out_dim: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(in_dim, hidden_dim), nn.ReLU(inplace=True),
                         nn.Linear(hidden_dim, out_dim))


@MODELS.register_module()
class LocalGlobalProjector(BaseModule):
    """DetCo-style heads: a global head embeds the average-pooled feature map of a whole view; a
    local head embeds the concatenation of the average-pooled features of its ``num_patches``
    jigsaw patches (in their shuffled order). Embeddings are L2-normalised.

    Args:
        in_channels (Sequence[int]): channels of each supervised layer.
        num_patches (int): jigsaw patches per view (16 for a 4×4 grid).
        hidden_dim (int): MLP width.
        embed_dim (int): output dimension D.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 num_patches: int = 16,
                 hidden_dim: int = 512,
                 embed_dim: int = 128,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.num_patches = num_patches
        self.global_heads = nn.ModuleList(_mlp(c, hidden_dim, embed_dim) for c in in_channels)
        self.local_heads = nn.ModuleList(
            _mlp(num_patches * c, hidden_dim, embed_dim) for c in in_channels)

    def forward(self, global_feats: Sequence[Tensor],
                local_feats: Sequence[Tensor]) -> tuple:
        """Embed one view and its patches.

        Args:
            global_feats (Sequence[Tensor]): per layer (B, C_l, h, w) features of the view.
            local_feats (Sequence[Tensor]): per layer (B·num_patches, C_l, h', w') features of its
                patches, grouped by image.

        Returns:
            tuple[list[Tensor], list[Tensor]]: per layer (B, D) global and (B, D) local embeddings.
        """
        globals_: List[Tensor] = []
        locals_: List[Tensor] = []
        for layer, (whole, patches) in enumerate(zip(global_feats, local_feats)):
            pooled = whole.mean(dim=(2, 3))
            globals_.append(F.normalize(self.global_heads[layer](pooled), dim=1))
            pooled_patches = patches.mean(dim=(2, 3)).unflatten(0, (-1, self.num_patches))
            locals_.append(F.normalize(self.local_heads[layer](pooled_patches.flatten(1)), dim=1))
        return globals_, locals_
