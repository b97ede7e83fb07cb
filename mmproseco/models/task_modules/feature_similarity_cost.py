# Copyright (c) mmproseco contributors. All rights reserved.
from typing import Optional

import torch.nn.functional as F
from mmdet.models.task_modules.assigners.match_cost import BaseMatchCost
from mmdet.registry import TASK_UTILS
from mmengine.structures import InstanceData
from torch import Tensor


def cosine_similarity_matrix(pred_embeds: Tensor, gt_embeds: Tensor) -> Tensor:
    """Pairwise cosine similarity, optionally batched.

    Args:
        pred_embeds (Tensor): Shape (..., N, D).
        gt_embeds (Tensor): Shape (..., T, D), same leading dimensions.

    Returns:
        Tensor: Shape (..., N, T), values in [-1, 1].
    """
    return F.normalize(pred_embeds, dim=-1) @ F.normalize(
        gt_embeds, dim=-1).transpose(-1, -2)


@TASK_UTILS.register_module()
class FeatureSimilarityCost(BaseMatchCost):
    """Feature match cost: ``-weight * cosine(pred.embeds, gt.embeds)``.

    Used by ProSeCo's proposal matching, where the "ground truth" are the
    teacher's proposals. The embeddings are L2-normalised here, so the cost
    is a cosine similarity whatever the scale of the inputs.

    Args:
        weight (float): Cost weight. Defaults to 1.
    """

    def __call__(self,
                 pred_instances: InstanceData,
                 gt_instances: InstanceData,
                 img_meta: Optional[dict] = None,
                 **kwargs) -> Tensor:
        """Compute the match cost.

        Args:
            pred_instances (:obj:`InstanceData`): ``embeds`` of shape
                (num_preds, D).
            gt_instances (:obj:`InstanceData`): ``embeds`` of shape
                (num_gts, D).
            img_meta (dict, optional): Unused.

        Returns:
            Tensor: Cost matrix of shape (num_preds, num_gts).
        """
        return -cosine_similarity_matrix(pred_instances.embeds,
                                         gt_instances.embeds) * self.weight
