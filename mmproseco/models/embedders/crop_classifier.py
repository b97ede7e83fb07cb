"""Cross-entropy ("SoftMax") baseline on object crops."""
from typing import Dict, List

from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from torch import Tensor

from .base_crop_model import BaseCropModel


@MODELS.register_module()
class CropClassifier(BaseCropModel):
    """Backbone + :class:`CropClassifierHead` trained with cross-entropy on every view.

    Same arguments as :class:`BaseCropModel`.
    """

    def loss(self, inputs: Tensor, data_samples: List[DetDataSample]) -> Dict[str, Tensor]:
        """``inputs``: ``(num_views, K, 3, S, S)``; each view is a training sample."""
        labels = self.crop_labels(data_samples)
        feats = self.extract_feat(inputs.flatten(0, 1))
        return self.head.loss(feats, labels.repeat(inputs.size(0)))
