# Copyright (c) mmproseco contributors. All rights reserved.
"""A step LR schedule that moves with the run length, which every DVC stage sets."""
from typing import Sequence

from mmdet.registry import PARAM_SCHEDULERS
from mmengine.optim import MultiStepLR
from mmengine.optim.scheduler.param_scheduler import INF


def relative_milestone(ratio: float, span: int) -> int:
    """The step, counted from a span's begin, at ``ratio`` of a span of ``span`` steps
    (Python's rounding: 2/3 of 1,500 is 1,000); the fine-tuning stage places its validations
    around the same step."""
    return round(ratio * span)


@PARAM_SCHEDULERS.register_module()
class RelativeMultiStepLR(MultiStepLR):
    """:class:`mmengine.optim.MultiStepLR` with milestones given as fractions of its span.

    The stages of the study set ``train_cfg.max_iters`` per run (``params.yaml``), so a
    milestone written as an iteration would fall at a different point of every run. Leave
    ``end`` out of the config: the runner then sets it to ``max_iters`` (mmengine's
    ``Runner.build_param_scheduler``), and the LR drops at ``begin + ratio * (end - begin)``
    (mmengine counts a scheduler's milestones from its ``begin``).

    Args:
        optimizer: Wrapped optimizer.
        milestone_ratios: Increasing fractions in (0, 1) of the span ``[begin, end)``.
        begin: Step at which the span starts. Defaults to 0.
        end: Step at which the span ends; the run's last step when the runner fills it in.
        **kwargs: ``gamma``, ``by_epoch``, ``last_step`` and ``verbose`` of ``MultiStepLR``.
    """

    def __init__(self, optimizer, milestone_ratios: Sequence[float], begin: int = 0,
                 end: int = INF, **kwargs):
        if end == INF:
            raise ValueError('RelativeMultiStepLR needs a finite end: leave `end` out of the '
                             'config so that the runner sets it to the train loop length')
        ratios = list(milestone_ratios)
        if not ratios or ratios != sorted(ratios) or not all(0 < r < 1 for r in ratios):
            raise ValueError(f'milestone_ratios must increase within (0, 1), got {ratios}')
        milestones = [relative_milestone(r, end - begin) for r in ratios]
        super().__init__(optimizer, milestones=milestones, begin=begin, end=end, **kwargs)
