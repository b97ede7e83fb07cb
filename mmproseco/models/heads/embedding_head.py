"""Projection head of the crop embedder: MLP to an L2-normalised embedding, plus its loss."""
from typing import Dict, Optional

import torch.nn as nn
import torch.nn.functional as F
from mmdet.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor


@MODELS.register_module()
class ContrastiveEmbeddingHead(BaseModule):
    """SupCon's projector ``Linear -> ReLU -> Linear`` and a contrastive loss.

    Args:
        in_channels (int): Width of the pooled backbone feature (2048 for ResNet-50).
        out_channels (int): Embedding size. Default 128.
        hidden_channels (int, optional): MLP width; defaults to ``in_channels``.
        loss (dict): A loss taking ``(anchors, anchor_labels, contrast, contrast_labels,
            exclude_mask)``: ``RankedContrastiveLoss``, ``SupConLoss`` or
            ``SuperclassContrastiveLoss``.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 loss: dict,
                 out_channels: int = 128,
                 hidden_channels: Optional[int] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        hidden_channels = hidden_channels or in_channels
        self.projector = nn.Sequential(
            nn.Linear(in_channels, hidden_channels), nn.ReLU(inplace=True),
            nn.Linear(hidden_channels, out_channels))
        self.loss_module = MODELS.build(loss)

    def forward(self, feats: Tensor) -> Tensor:
        """``(K, in_channels)`` pooled features to ``(K, out_channels)`` unit embeddings."""
        return F.normalize(self.projector(feats), dim=1)

    def predict(self, feats: Tensor) -> Tensor:
        """Embeddings used by the prototype classifier and the OOD score."""
        return self(feats)

    def loss(self, anchors: Tensor, anchor_labels: Tensor, contrast: Tensor,
             contrast_labels: Tensor, exclude_mask: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Contrastive loss of ``(N, D)`` anchor embeddings against ``(M, D)`` contrast ones."""
        return dict(loss_contrastive=self.loss_module(
            anchors, anchor_labels, contrast, contrast_labels, exclude_mask))
