"""Deformable DETR head for DETReg-style pretraining (Bar et al., 2022)."""
from typing import List

import torch
from mmdet.models.dense_heads import DeformableDETRHead
from mmdet.models.layers import MLP
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmdet.utils import ConfigType
from mmengine.structures import InstanceData
from torch import Tensor

from .locsce_head import boxes_to_pixels


@MODELS.register_module()
class DETRegHead(DeformableDETRHead):
    """Localization on Selective Search boxes plus object-embedding regression.

    Every query matched to a Selective Search box (by the same Hungarian matching as the
    box losses) regresses, through ``feature_embed``, the pooled frozen-backbone feature of
    that box's crop: DETReg's "object embedding" target.

    Args:
        target_channels (int): channels of the pooled backbone feature.
        loss_embed (dict): the regression loss (DETReg: L1, weight 1).
    """

    def __init__(self, *args, target_channels: int = 512,
                 loss_embed: ConfigType = dict(type='L1Loss', loss_weight=1.0),
                 num_classes: int = 1, **kwargs) -> None:
        self.target_channels = target_channels
        super().__init__(*args, num_classes=num_classes, **kwargs)
        self.loss_embed = MODELS.build(loss_embed)

    def _init_layers(self) -> None:
        super()._init_layers()
        self.feature_embed = MLP(self.embed_dims, self.embed_dims, self.target_channels, 2)

    def loss(self, hidden_states: Tensor, references: List[Tensor],
             batch_data_samples: SampleList, box_targets: List[Tensor]) -> dict:
        """Args:
            hidden_states (Tensor): (L, B, N, C) decoder states.
            references (list[Tensor]): the decoder's references.
            batch_data_samples (list[DetDataSample]): ``gt_instances`` hold the sampled
                Selective Search boxes.
            box_targets (list[Tensor]): per image, (K_b, target_channels) pooled backbone
                features of its K_b Selective Search boxes, in ``gt_instances`` order.
        """
        img_metas = [s.metainfo for s in batch_data_samples]
        gt_instances = [s.gt_instances for s in batch_data_samples]
        all_cls_scores, all_bbox_preds = self(hidden_states, references)
        losses = self.loss_by_feat(all_cls_scores, all_bbox_preds, None, None, gt_instances,
                                   img_metas)
        img_shapes = [meta['img_shape'] for meta in img_metas]
        last_boxes = boxes_to_pixels(all_bbox_preds[-1].detach(), img_shapes)
        embeds = self.feature_embed(hidden_states[-1])
        preds, targets = [], []
        for i, (gt, meta) in enumerate(zip(gt_instances, img_metas)):
            # The assignment of the last layer's box losses: one Hungarian per image.
            assign = self.assigner.assign(
                InstanceData(scores=all_cls_scores[-1][i].detach(), bboxes=last_boxes[i]),
                gt, img_meta=meta)
            pos = torch.nonzero(assign.gt_inds > 0, as_tuple=False).squeeze(-1)
            preds.append(embeds[i, pos])
            targets.append(box_targets[i][assign.gt_inds[pos] - 1])
        losses['loss_embed'] = self.loss_embed(torch.cat(preds), torch.cat(targets).detach())
        return losses
