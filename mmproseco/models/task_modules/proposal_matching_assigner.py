# Copyright (c) mmproseco contributors. All rights reserved.
from typing import List, Optional, Sequence, Union

import torch
from mmdet.models.task_modules.assigners import AssignResult, HungarianAssigner
from mmdet.models.task_modules.assigners.match_cost import BaseMatchCost, BBoxL1Cost, IoUCost
from mmdet.registry import TASK_UTILS
from mmdet.structures.bbox import bbox_overlaps, bbox_xyxy_to_cxcywh
from mmengine import ConfigDict
from mmengine.structures import InstanceData
from scipy.optimize import linear_sum_assignment
from torch import Tensor

from mmproseco.engine.divergence import check_finite
from .feature_similarity_cost import FeatureSimilarityCost, cosine_similarity_matrix

BATCHED_COSTS = (FeatureSimilarityCost, BBoxL1Cost, IoUCost)


def batched_match_cost(match_cost: BaseMatchCost, student_embeds: Tensor,
                       student_boxes: Tensor, teacher_embeds: Tensor,
                       teacher_boxes: Tensor, img_shapes: Tensor) -> Tensor:
    """Evaluate one mmdet match cost on a whole batch at once.

    The result equals ``match_cost(pred_instances, gt_instances, img_meta)``
    stacked over the images, computed with the same operations on batched
    tensors (``bmm`` for the cosine, batched ``cdist`` for L1, batched
    ``bbox_overlaps`` for (G)IoU).

    Args:
        match_cost (BaseMatchCost): A :class:`FeatureSimilarityCost`,
            ``BBoxL1Cost`` or ``IoUCost``.
        student_embeds (Tensor): Shape (B, N, D).
        student_boxes (Tensor): Absolute xyxy boxes, shape (B, N, 4).
        teacher_embeds (Tensor): Shape (B, T, D).
        teacher_boxes (Tensor): Absolute xyxy boxes, shape (B, T, 4).
        img_shapes (Tensor): ``(h, w)`` of every image, shape (B, 2).

    Returns:
        Tensor: Weighted cost of shape (B, N, T).
    """
    if isinstance(match_cost, FeatureSimilarityCost):
        return -cosine_similarity_matrix(student_embeds,
                                         teacher_embeds) * match_cost.weight
    if isinstance(match_cost, BBoxL1Cost):
        if match_cost.box_format == 'xywh':
            student_boxes = bbox_xyxy_to_cxcywh(student_boxes)
            teacher_boxes = bbox_xyxy_to_cxcywh(teacher_boxes)
        img_h, img_w = img_shapes.to(teacher_boxes).unbind(-1)
        factor = torch.stack([img_w, img_h, img_w, img_h], dim=-1)[:, None]
        return torch.cdist(
            student_boxes / factor, teacher_boxes / factor,
            p=1) * match_cost.weight
    if isinstance(match_cost, IoUCost):
        # IoUCost computes fp16 boxes in float32 so that areas cannot overflow.
        compute_dtype = torch.float32 \
            if student_boxes.dtype == torch.float16 else student_boxes.dtype
        overlaps = bbox_overlaps(
            student_boxes.to(compute_dtype),
            teacher_boxes.to(compute_dtype),
            mode=match_cost.iou_mode).to(student_boxes.dtype)
        return -overlaps * match_cost.weight
    raise TypeError(f'{type(match_cost).__name__} has no batched version; '
                    f'supported: {[c.__name__ for c in BATCHED_COSTS]}.')


@TASK_UTILS.register_module()
class ProposalMatchingAssigner(HungarianAssigner):
    """Hungarian matching of student predictions to teacher proposals.

    ProSeCo matches every student prediction ``(z_hat, b_hat)`` to a teacher
    proposal ``(z, b)`` with the cost
    ``c_f * (-cos(z_hat, z)) + c_L1 * L1(b_hat, b) + c_giou * (-GIoU(b_hat, b))``.

    Two entry points:

    - :meth:`assign` (mmdet's per-image interface): ``pred_instances`` and
      ``gt_instances`` (the teacher proposals) carry ``bboxes`` (absolute
      xyxy) and ``embeds``; teacher proposals get dummy ``labels`` (zeros)
      when they have none.
    - :meth:`match`: the whole batch's cost is built in one pass on the
      device, moved to the CPU once and solved per image with
      ``scipy.optimize.linear_sum_assignment``.

    Args:
        match_costs (list[dict] | dict): Match cost configs, each one a
            ``FeatureSimilarityCost``, ``BBoxL1Cost`` or ``IoUCost``.
            Defaults to feature 1.0, L1 (normalised cxcywh) 5.0, GIoU 2.0.
    """

    def __init__(
        self,
        match_costs: Union[List[Union[dict, ConfigDict]], dict,
                           ConfigDict] = (
                               dict(type='FeatureSimilarityCost', weight=1.0),
                               dict(
                                   type='BBoxL1Cost',
                                   weight=5.0,
                                   box_format='xywh'),
                               dict(
                                   type='IoUCost',
                                   iou_mode='giou',
                                   weight=2.0))
    ) -> None:
        if isinstance(match_costs, tuple):
            match_costs = list(match_costs)
        super().__init__(match_costs=match_costs)
        for match_cost in self.match_costs:
            if not isinstance(match_cost, BATCHED_COSTS):
                raise ValueError(
                    'match_costs of ProposalMatchingAssigner must be among '
                    f'{[c.__name__ for c in BATCHED_COSTS]}, got '
                    f'{type(match_cost).__name__}.')

    def assign(self,
               pred_instances: InstanceData,
               gt_instances: InstanceData,
               img_meta: Optional[dict] = None,
               **kwargs) -> AssignResult:
        """Match one image's predictions to its teacher proposals.

        Same contract as :meth:`HungarianAssigner.assign`; ``gt_instances``
        may lack ``labels``.
        """
        if 'labels' not in gt_instances:
            dummy_labels = gt_instances.bboxes.new_zeros(
                len(gt_instances), dtype=torch.long)
            gt_instances = gt_instances.new(
                **dict(gt_instances.items()), labels=dummy_labels)
        return super().assign(pred_instances, gt_instances, img_meta,
                              **kwargs)

    def batched_cost(self, student_embeds: Tensor, student_boxes: Tensor,
                     teacher_embeds: Tensor, teacher_boxes: Tensor,
                     img_shapes: Union[Tensor, Sequence[Sequence[int]]]
                     ) -> Tensor:
        """Summed match cost of the whole batch, shape (B, N, T).

        Arguments as in :meth:`match`.
        """
        img_shapes = torch.as_tensor(img_shapes, device=student_boxes.device)
        costs = [
            batched_match_cost(match_cost, student_embeds, student_boxes,
                               teacher_embeds, teacher_boxes, img_shapes)
            for match_cost in self.match_costs
        ]
        return torch.stack(costs).sum(dim=0)

    def match(self, student_embeds: Tensor, student_boxes: Tensor,
              teacher_embeds: Tensor, teacher_boxes: Tensor,
              img_shapes: Union[Tensor, Sequence[Sequence[int]]]) -> Tensor:
        """Hungarian matching of a batch of student queries to teacher
        proposals.

        Args:
            student_embeds (Tensor): Student embeddings, shape (B, N, D).
            student_boxes (Tensor): Student boxes, absolute xyxy, (B, N, 4).
            teacher_embeds (Tensor): Teacher embeddings, shape (B, T, D).
            teacher_boxes (Tensor): Teacher boxes, absolute xyxy, (B, T, 4).
            img_shapes (Tensor | Sequence): ``(h, w)`` of every image (the
                ``img_shape`` meta of mmdet), shape (B, 2).

        Returns:
            Tensor: Long tensor (B, N) with the index in [0, T) of the teacher
            proposal assigned to every student query, -1 when unassigned
            (only possible when T < N).
        """
        num_images, num_queries = student_boxes.shape[:2]
        matched = torch.full((num_images, num_queries), -1, dtype=torch.long)
        if teacher_boxes.size(1) > 0 and num_queries > 0:
            costs = self.batched_cost(student_embeds, student_boxes,
                                      teacher_embeds, teacher_boxes,
                                      img_shapes).detach().cpu()
            check_finite(costs, f'the matching cost of {type(self).__name__}')
            costs = costs.numpy()
            for image, cost in enumerate(costs):
                rows, cols = linear_sum_assignment(cost)
                matched[image, torch.from_numpy(rows)] = torch.from_numpy(cols)
        return matched.to(student_boxes.device)
