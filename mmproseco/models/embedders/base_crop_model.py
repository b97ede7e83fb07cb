"""Shared part of the object-crop models: backbone, pooling, head, and prediction."""
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine.model import BaseModel
from mmengine.structures import InstanceData
from torch import Tensor


class BaseCropModel(BaseModel):
    """Backbone + global average pooling + head over object crops.

    Subclasses implement :meth:`loss` on ``(num_views, K, 3, S, S)`` views. Prediction embeds
    ``(K, 3, S, S)`` crops and writes, for every image, ``pred_instances.embeddings`` (the
    head's embedding) and ``pred_instances.features`` (the L2-normalised pooled backbone
    feature) in box order.

    Args:
        backbone (dict): Backbone config; its last output is pooled.
        head (dict): Head config.
        data_preprocessor (dict, optional): Default :class:`ObjectCropDataPreprocessor`.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='ObjectCropDataPreprocessor')
        if isinstance(data_preprocessor, dict):
            # built from mmdet's registry, so no default scope is needed outside a Runner
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.head = MODELS.build(head)

    @staticmethod
    def pool(backbone_outs) -> Tensor:
        """Global average pooling of the last backbone output: ``(K, C)``."""
        return F.adaptive_avg_pool2d(backbone_outs[-1], 1).flatten(1)

    def extract_feat(self, crops: Tensor) -> Tensor:
        """``(K, 3, S, S)`` crops to ``(K, C)`` pooled features."""
        return self.pool(self.backbone(crops))

    @staticmethod
    def crop_labels(data_samples: List[DetDataSample]) -> Tensor:
        """``(K,)`` labels of the crops, in the preprocessor's order."""
        return torch.cat([ds.gt_instances.labels for ds in data_samples])

    def forward(self,
                inputs: Tensor,
                data_samples: Optional[List[DetDataSample]] = None,
                mode: str = 'tensor') -> Union[Dict[str, Tensor], List[DetDataSample], Tensor]:
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.head(self.extract_feat(inputs))
        raise ValueError(f"mode must be 'loss', 'predict' or 'tensor', got {mode!r}")

    def loss(self, inputs: Tensor, data_samples: List[DetDataSample]) -> Dict[str, Tensor]:
        raise NotImplementedError

    def predict(self, inputs: Tensor, data_samples: List[DetDataSample]) -> List[DetDataSample]:
        feats = self.extract_feat(inputs)
        embeddings = self.head.predict(feats)
        counts = [len(ds.gt_instances) for ds in data_samples]
        for ds, emb, feat in zip(data_samples, embeddings.split(counts),
                                 F.normalize(feats, dim=1).split(counts)):
            ds.pred_instances = InstanceData(embeddings=emb, features=feat)
        return data_samples
