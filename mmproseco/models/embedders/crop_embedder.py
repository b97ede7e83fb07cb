"""Contrastive object-crop embedder, in-batch (SupCon style) or with a MoCo key encoder."""
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from torch import Tensor

from ..utils import FeatureQueue, ModulePair, MomentumModelMixin, momentum_copy
from .base_crop_model import BaseCropModel


@MODELS.register_module()
class CropEmbedder(BaseCropModel, MomentumModelMixin):
    """Backbone + :class:`ContrastiveEmbeddingHead` trained on two views of every crop.

    * ``key_encoder=None`` (in batch): both views of all crops are anchors and contrast set;
      each anchor is left out of its own contrast set (SupCon's ``contrast_mode='all'``).
    * ``key_encoder=dict(queue_size=2048)`` (RINCE/MoCo): view 1 goes through the trained
      encoder (anchors), view 2 through its momentum copy (keys): the backbone and the head's
      projector, a momentum pair kept by :class:`TeacherEMAHook` (RINCE: ``momentum=0.99``,
      constant). The contrast set is the batch's keys plus a :class:`FeatureQueue` of earlier
      keys and their labels; the queue is updated after the loss. Unlike the original, the other
      crops' keys of the current batch are in the contrast set too (the original compared each
      anchor with its own key and the queue only). With several GPUs each keeps its own queue.

    Args:
        backbone (dict): Backbone config.
        head (dict): :class:`ContrastiveEmbeddingHead` config.
        data_preprocessor (dict, optional): Default :class:`ObjectCropDataPreprocessor`.
        key_encoder (dict, optional): ``queue_size`` (> 0, default 2048). The key encoder's
            momentum is the ``momentum`` of :class:`TeacherEMAHook`.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 data_preprocessor: Optional[dict] = None,
                 key_encoder: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(backbone, head, data_preprocessor, init_cfg)
        self.use_key_encoder = key_encoder is not None
        if not self.use_key_encoder:
            return
        if 'decay' in key_encoder:
            # The momentum moved to the hook: fail rather than train with its default.
            raise ValueError(
                'key_encoder.decay was removed: set the key encoder momentum (weight of the old '
                "key encoder) on the hook, custom_hooks=[dict(type='TeacherEMAHook', "
                "momentum=0.99, momentum_schedule='constant')]")
        unknown = sorted(set(key_encoder) - {'queue_size'})
        if unknown:
            raise ValueError(f'key_encoder has unknown keys {unknown}; use queue_size')
        queue_size = key_encoder.get('queue_size', 2048)
        if queue_size < 1:
            raise ValueError(f'key_encoder.queue_size must be >= 1, got {queue_size}')
        # MoCo's key encoder: no loss, and the projector only (the head's forward normalises).
        self.key_backbone = momentum_copy(self.backbone)
        self.key_projector = momentum_copy(self.head.projector)
        self.queue = FeatureQueue(queue_size, self.head.projector[-1].out_features,
                                  with_labels=True)

    def momentum_pairs(self) -> List[ModulePair]:
        if not self.use_key_encoder:
            return []
        return [(self.backbone, self.key_backbone), (self.head.projector, self.key_projector)]

    def loss(self, inputs: Tensor, data_samples: List[DetDataSample]) -> Dict[str, Tensor]:
        """``inputs``: ``(num_views >= 2, K, 3, S, S)``."""
        if inputs.dim() != 5 or inputs.size(0) < 2:
            raise ValueError('CropEmbedder needs two views per crop: set the data '
                             'preprocessor num_views=2')
        labels = self.crop_labels(data_samples)
        if not self.use_key_encoder:
            num_views = inputs.size(0)
            embeddings = self.head(self.extract_feat(inputs.flatten(0, 1)))
            all_labels = labels.repeat(num_views)
            itself = torch.eye(len(all_labels), dtype=torch.bool, device=labels.device)
            return self.head.loss(embeddings, all_labels, embeddings, all_labels, itself)
        anchors = self.head(self.extract_feat(inputs[0]))
        with torch.no_grad():
            keys = F.normalize(self.key_projector(self.pool(self.key_backbone(inputs[1]))),
                               dim=1)
        filled = self.queue.filled
        contrast = torch.cat([keys, self.queue.features[filled]])
        contrast_labels = torch.cat([labels, self.queue.labels[filled]])
        losses = self.head.loss(anchors, labels, contrast, contrast_labels)
        self.queue.enqueue(keys, labels)
        return losses
