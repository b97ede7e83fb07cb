"""DETReg-style pretraining of Deformable DETR, the baseline ProSeCo improves on."""
from typing import List

from mmcv.ops import roi_align
from mmdet.models.detectors import DeformableDETR
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmdet.structures.bbox import bbox2roi
from torch import Tensor

from ..utils.frozen_backbone import check_frozen_backbone_has_weights


@MODELS.register_module()
class DETReg(DeformableDETR):
    """Deformable DETR pretrained on Selective Search boxes with embedding regression.

    The head (:class:`DETRegHead`) learns to localize the sampled Selective Search boxes
    and to predict, for each matched query, the backbone feature of the box: the backbone
    level ``target_level`` is RoI-aligned on the box and averaged. DETReg takes this from a
    frozen SwAV ResNet on 128-px crops; pooling the detector's own (frozen) backbone
    features is the same target without a second backbone pass.

    Args:
        target_level (int): index into the backbone outputs used for the targets.
        target_roi_size (int): RoIAlign output size before averaging.
    """

    def __init__(self, *args, target_level: int = 0, target_roi_size: int = 4, **kwargs):
        backbone = kwargs['backbone']
        if backbone.get('frozen_stages', -1) >= backbone.get('num_stages', 4):
            check_frozen_backbone_has_weights(backbone.get('init_cfg'),
                                              'model.backbone.frozen_stages',
                                              'model.backbone')
        super().__init__(*args, **kwargs)
        self.target_level = target_level
        self.target_roi_size = target_roi_size

    def box_targets(self, backbone_feats: tuple,
                    batch_data_samples: SampleList) -> List[Tensor]:
        """Per image, (K_b, C) averaged RoIAlign features of its ground-truth boxes."""
        feat = backbone_feats[self.target_level].detach()
        stride = batch_data_samples[0].batch_input_shape[0] / feat.shape[-2]
        rois = bbox2roi([s.gt_instances.bboxes for s in batch_data_samples])
        pooled = roi_align(feat, rois, self.target_roi_size, 1.0 / stride, 2, 'avg', True)
        pooled = pooled.mean(dim=(2, 3))
        counts = [len(s.gt_instances) for s in batch_data_samples]
        return list(pooled.split(counts))

    def loss(self, batch_inputs: Tensor, batch_data_samples: SampleList) -> dict:
        backbone_feats = self.backbone(batch_inputs)
        img_feats = self.neck(backbone_feats)
        head_inputs = self.forward_transformer(img_feats, batch_data_samples)
        return self.bbox_head.loss(head_inputs['hidden_states'], head_inputs['references'],
                                   batch_data_samples,
                                   self.box_targets(backbone_feats, batch_data_samples))
