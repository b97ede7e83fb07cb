"""Contrastive object-crop embedder, in-batch (SupCon style) or with a MoCo key encoder."""
from typing import Dict, List, Optional

import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine.model import ExponentialMovingAverage
from torch import Tensor

from .base_crop_model import BaseCropModel


@MODELS.register_module()
class CropEmbedder(BaseCropModel):
    """Backbone + :class:`ContrastiveEmbeddingHead` trained on two views of every crop.

    * ``key_encoder=None`` (in batch): both views of all crops are anchors and contrast set;
      each anchor is left out of its own contrast set (SupCon's ``contrast_mode='all'``).
    * ``key_encoder=dict(decay=0.99, queue_size=2048)`` (RINCE/MoCo): view 1 goes through the
      trained encoder (anchors), view 2 through an EMA copy (keys). The contrast set is the
      batch's keys plus a FIFO queue of earlier keys and their labels; the queue is updated
      after the loss. Unlike the original, the other crops' keys of the current batch are in the
      contrast set too (the original compared each anchor with its own key and the queue only).
      The queue is per process: with several GPUs each keeps its own.

    Args:
        backbone (dict): Backbone config.
        head (dict): :class:`ContrastiveEmbeddingHead` config.
        data_preprocessor (dict, optional): Default :class:`ObjectCropDataPreprocessor`.
        key_encoder (dict, optional): ``decay`` (EMA decay of the key encoder, in (0, 1)) and
            ``queue_size`` (> 0).
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
        unknown = sorted(set(key_encoder) - {'decay', 'queue_size'})
        if unknown:
            raise ValueError(f'key_encoder has unknown keys {unknown}; use decay, queue_size')
        decay = key_encoder.get('decay', 0.99)
        queue_size = key_encoder.get('queue_size', 2048)
        if not 0 < decay < 1:
            raise ValueError(f'key_encoder.decay must be in (0, 1), got {decay}')
        if queue_size < 1:
            raise ValueError(f'key_encoder.queue_size must be >= 1, got {queue_size}')
        # mmengine's EMA copies the online weights on its first update, i.e. after
        # init_weights or checkpoint loading, so both encoders start equal.
        self.key_backbone = ExponentialMovingAverage(self.backbone, momentum=1 - decay)
        self.key_head = ExponentialMovingAverage(self.head, momentum=1 - decay)
        embed_dim = self.head.projector[-1].out_features
        self.register_buffer('queue', torch.zeros(queue_size, embed_dim))
        # Label -1 marks slots not filled yet; they are left out of the contrast set.
        self.register_buffer('queue_labels', torch.full((queue_size, ), -1, dtype=torch.long))
        self.register_buffer('queue_ptr', torch.zeros((), dtype=torch.long))

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
            self.key_backbone.update_parameters(self.backbone)
            self.key_head.update_parameters(self.head)
            keys = self.key_head.module(self.pool(self.key_backbone.module(inputs[1])))
        filled = self.queue_labels >= 0
        contrast = torch.cat([keys, self.queue[filled]])
        contrast_labels = torch.cat([labels, self.queue_labels[filled]])
        losses = self.head.loss(anchors, labels, contrast, contrast_labels)
        self._enqueue(keys, labels)
        return losses

    @torch.no_grad()
    def _enqueue(self, keys: Tensor, labels: Tensor) -> None:
        """Write ``(K, D)`` keys and ``(K,)`` labels over the oldest queue slots."""
        size = self.queue.size(0)
        keys, labels = keys[-size:], labels[-size:]
        slots = (self.queue_ptr + torch.arange(len(labels), device=labels.device)) % size
        self.queue[slots] = keys
        self.queue_labels[slots] = labels
        self.queue_ptr.copy_((self.queue_ptr + len(labels)) % size)
