"""Deformable DETR head for ProSeCo pretraining."""
from typing import List, Tuple

import torch
import torch.nn.functional as F
from mmdet.models.dense_heads import DeformableDETRHead
from mmdet.models.layers import MLP
from mmdet.registry import MODELS, TASK_UTILS
from mmdet.structures import SampleList
from mmdet.structures.bbox import bbox_cxcywh_to_xyxy
from mmdet.utils import ConfigType
from torch import Tensor


def boxes_to_pixels(boxes: Tensor, img_shapes: List[Tuple[int, int]]) -> Tensor:
    """Normalised cxcywh boxes of a batch to absolute xyxy.

    Args:
        boxes (Tensor): (B, N, 4) normalised (cx, cy, w, h).
        img_shapes (list[tuple]): B (height, width) pairs.

    Returns:
        Tensor: (B, N, 4) (x1, y1, x2, y2) in pixels.
    """
    scale = boxes.new_tensor([[w, h, w, h] for h, w in img_shapes]).unsqueeze(1)
    return bbox_cxcywh_to_xyxy(boxes) * scale


@MODELS.register_module()
class LocSCEHead(DeformableDETRHead):
    """The ProSeCo head: localization on Selective Search boxes plus LocSCE.

    It is a :class:`DeformableDETRHead` with one class (objectness) whose ground truth is
    the K Selective Search boxes sampled for the image; mmdet's Hungarian matching and
    L1 + GIoU losses then give the localization loss on every decoder layer. On top it
    holds the projection MLP (student and teacher) and the prediction MLP (student only,
    as in SCE) that embed the last decoder layer's queries for the contrastive loss.

    Args:
        proj_channels (int): output size of the projector (and the predictor).
        with_predictor (bool): put a predictor MLP on the student branch, as SCE and BYOL
            do; the teacher never uses it.
        proposal_assigner (dict): the student-query to teacher-proposal matcher.
        loss_contrast (dict): the contrastive loss on matched proposals, a ``LocSCELoss``
            (its ``positive_mask`` gives the logged sizes of the positive sets).
        **kwargs: :class:`DeformableDETRHead` arguments. ``num_classes`` defaults to 1;
            set ``loss_cls.loss_weight`` (and the assigner's class cost) to 0 to drop the
            objectness term, as ProSeCo's figure shows only L1 and GIoU.
    """

    def __init__(self,
                 *args,
                 proj_channels: int = 256,
                 with_predictor: bool = True,
                 proposal_assigner: ConfigType = dict(type='ProposalMatchingAssigner'),
                 loss_contrast: ConfigType = dict(type='LocSCELoss'),
                 num_classes: int = 1,
                 **kwargs) -> None:
        self.proj_channels = proj_channels
        self.with_predictor = with_predictor
        super().__init__(*args, num_classes=num_classes, **kwargs)
        self.proposal_assigner = TASK_UTILS.build(proposal_assigner)
        self.loss_contrast = MODELS.build(loss_contrast)

    def _init_layers(self) -> None:
        super()._init_layers()
        self.projector = MLP(self.embed_dims, self.embed_dims, self.proj_channels, 2)
        if self.with_predictor:
            self.predictor = MLP(self.proj_channels, self.embed_dims, self.proj_channels, 2)

    def embed(self, query_states: Tensor, online: bool) -> Tensor:
        """L2-normalised embeddings of queries.

        Args:
            query_states (Tensor): (B, N, C) last decoder layer.
            online (bool): True for the student (projector then predictor), False for
                the teacher (projector only).

        Returns:
            Tensor: (B, N, proj_channels).
        """
        embeds = self.projector(query_states)
        if online and self.with_predictor:
            embeds = self.predictor(embeds)
        return F.normalize(embeds, dim=-1)

    def loss(self, hidden_states: Tensor, references: List[Tensor],
             batch_data_samples: SampleList, teacher_embeds: Tensor,
             teacher_boxes: Tensor) -> dict:
        """Localization and LocSCE losses of the student.

        Args:
            hidden_states (Tensor): (L, B, N, C) student decoder states.
            references (list[Tensor]): the decoder's references (see DeformableDETRHead).
            batch_data_samples (list[DetDataSample]): the student view; ``gt_instances``
                hold the sampled Selective Search boxes.
            teacher_embeds (Tensor): (B, T, D) teacher proposal embeddings (normalised).
            teacher_boxes (Tensor): (B, T, 4) teacher boxes, normalised cxcywh.

        Returns:
            dict: ``loss_bbox``/``loss_iou`` (and ``d{i}.*`` for earlier layers), ``loss_cls``
            (the objectness term, weight 0 by default) and ``loss_contrast``; and, logged but
            not summed (no ``loss`` in the name), ``positives_per_query``, the mean size of
            LocSCE's positive sets |P(i)| (1 means LocSCE is SCE), and ``matched_cos``, the
            mean cosine of a student query and its matched teacher proposal.
        """
        img_metas = [s.metainfo for s in batch_data_samples]
        gt_instances = [s.gt_instances for s in batch_data_samples]
        all_cls_scores, all_bbox_preds = self(hidden_states, references)
        losses = self.loss_by_feat(all_cls_scores, all_bbox_preds, None, None, gt_instances,
                                   img_metas)

        img_shapes = [meta['img_shape'] for meta in img_metas]
        student_embeds = self.embed(hidden_states[-1], online=True)
        student_boxes = boxes_to_pixels(all_bbox_preds[-1].detach(), img_shapes)
        teacher_boxes = boxes_to_pixels(teacher_boxes, img_shapes)
        matched = self.proposal_assigner.match(student_embeds.detach(), student_boxes,
                                               teacher_embeds, teacher_boxes, img_shapes)
        batch_size, num_teacher = teacher_embeds.shape[:2]
        image_ids = torch.arange(batch_size, device=matched.device)
        # Flat index of each student query's teacher proposal over the effective batch.
        matched_flat = (matched + image_ids[:, None] * num_teacher).flatten()
        student_flat = student_embeds.flatten(0, 1)
        if num_teacher < matched.size(1):
            # Only then does the Hungarian matching leave queries unassigned (-1). Selecting
            # the others waits for the device, so the usual case (the teacher is a copy of
            # the student, T = N) skips it.
            assigned = matched.flatten() >= 0
            student_flat, matched_flat = student_flat[assigned], matched_flat[assigned]
        teacher_flat = teacher_embeds.flatten(0, 1)
        boxes_flat = teacher_boxes.flatten(0, 1)
        image_ids_flat = image_ids.repeat_interleave(num_teacher)
        losses['loss_contrast'] = self.loss_contrast(student_flat, teacher_flat, boxes_flat,
                                                     image_ids_flat, matched_flat)
        with torch.no_grad():
            positives = self.loss_contrast.positive_mask(boxes_flat, image_ids_flat,
                                                         matched_flat)
            losses['positives_per_query'] = positives.sum(dim=1).to(student_flat.dtype).mean()
            losses['matched_cos'] = (student_flat * teacher_flat[matched_flat]).sum(dim=1).mean()
        return losses
