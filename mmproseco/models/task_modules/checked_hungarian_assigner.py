# Copyright (c) mmproseco contributors. All rights reserved.
from typing import Optional

from mmdet.models.task_modules.assigners import AssignResult, HungarianAssigner
from mmdet.registry import TASK_UTILS
from mmengine.structures import InstanceData

from mmproseco.engine.divergence import divergence_error, first_non_finite


@TASK_UTILS.register_module()
class CheckedHungarianAssigner(HungarianAssigner):
    """mmdet's ``HungarianAssigner`` that stops a diverged model with a clear error.

    After a step that made the weights NaN, DETR's next forward reaches scipy's Hungarian
    solver, which refuses the NaN cost matrix with "matrix contains invalid numeric entries".
    This assigner raises :class:`~mmproseco.engine.divergence.DivergenceError` instead, with
    the message of the divergence guard. It checks the predictions the costs are computed
    from: mmdet's match costs (classification, L1, (G)IoU) are finite for finite predictions
    and the checked ground truth, so the cost matrix is finite exactly when they are, and the
    check costs no second evaluation of the costs. Arguments are those of
    ``HungarianAssigner``.
    """

    def assign(self,
               pred_instances: InstanceData,
               gt_instances: InstanceData,
               img_meta: Optional[dict] = None,
               **kwargs) -> AssignResult:
        name = first_non_finite(pred_instances.items())
        if name is not None:
            raise divergence_error(f'the predicted {name} matched by {type(self).__name__} '
                                   'are not finite')
        return super().assign(pred_instances, gt_instances, img_meta, **kwargs)
