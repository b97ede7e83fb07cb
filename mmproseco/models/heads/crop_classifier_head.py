"""Softmax classifier head of the cross-entropy baseline for object crops."""
from typing import Dict, Optional

import torch.nn as nn
import torch.nn.functional as F
from mmdet.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor


@MODELS.register_module()
class CropClassifierHead(BaseModule):
    """A linear classifier trained with cross-entropy (the "SoftMax" baseline).

    Its embedding for the prototype classifier is the L2-normalised logit vector, as in the
    original baseline, which used nearest-class-mean on normalised logits rather than argmax.

    Args:
        in_channels (int): Width of the pooled backbone feature.
        num_classes (int): Number of classes (withheld classes included; they get no data).
        loss (dict): Classification loss. Default mmdet's softmax ``CrossEntropyLoss``.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 num_classes: int,
                 loss: dict = dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_classes < 2:
            raise ValueError(f'num_classes must be >= 2, got {num_classes}')
        self.num_classes = num_classes
        self.classifier = nn.Linear(in_channels, num_classes)
        self.loss_module = MODELS.build(loss)

    def forward(self, feats: Tensor) -> Tensor:
        """``(K, in_channels)`` pooled features to ``(K, num_classes)`` logits."""
        return self.classifier(feats)

    def predict(self, feats: Tensor) -> Tensor:
        """``(K, num_classes)`` L2-normalised logits, the baseline's embedding."""
        return F.normalize(self(feats), dim=1)

    def loss(self, feats: Tensor, labels: Tensor) -> Dict[str, Tensor]:
        """Cross-entropy of ``(K, in_channels)`` features against ``(K,)`` labels."""
        if labels.numel() and int(labels.max()) >= self.num_classes:
            raise ValueError(f'label {int(labels.max())} is out of range for num_classes='
                             f'{self.num_classes}')
        logits = self(feats)
        accuracy = (logits.argmax(dim=1) == labels).float().mean()
        return dict(loss_cls=self.loss_module(logits, labels), acc_cls=accuracy.detach())
