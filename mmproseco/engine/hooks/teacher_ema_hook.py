# Copyright (c) mmproseco contributors. All rights reserved.
import math
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
from mmdet.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from torch import Tensor

MOMENTUM_SCHEDULES = ('constant', 'cosine')


def ema_momentum(momentum: float, end_momentum: float, schedule: str,
                 iteration: int, max_iters: int) -> float:
    """Momentum (weight of the old teacher) used at ``iteration``.

    ``'constant'``: ``momentum``. ``'cosine'`` (BYOL/SCE):
    ``end - (end - momentum) * (cos(pi * k / K) + 1) / 2``, which starts at
    ``momentum`` for k = 0 and reaches ``end_momentum`` at k = K.
    """
    if schedule == 'constant':
        return momentum
    progress = min(iteration / max_iters, 1.0)
    return end_momentum - (end_momentum - momentum) * (
        math.cos(math.pi * progress) + 1) / 2


@HOOKS.register_module()
class TeacherEMAHook(Hook):
    """Keep ``model.teacher`` an exponential moving average of
    ``model.student``.

    After every ``interval``-th training iteration k (0-based, ``runner.iter``)::

        teacher <- m_k * teacher + (1 - m_k) * student

    **Convention:** ``momentum`` is the weight of the *old teacher*, as in
    SCE, BYOL and MoCo (0.999 keeps 99.9 % of the teacher). This is the
    complement of mmdet's ``MeanTeacherHook`` and of mmengine's
    ``ExponentialMovingAverage``, whose ``momentum`` weights the student:
    ``TeacherEMAHook(momentum=0.999)`` == ``MeanTeacherHook(momentum=0.001)``.

    At ``before_train`` the teacher is frozen (``requires_grad_(False)``) and,
    when training starts from iteration 0 (not resuming), set to an exact
    copy of the student. The teacher is a submodule of the model, so
    checkpoints hold it and ``--resume`` restores it unchanged.

    mmengine's ``ExponentialMovingAverage`` is not reused because it keeps
    its own deep copy of the model, whereas ProSeCo's loss needs the teacher
    inside the model.

    Args:
        momentum (float): Initial weight m0 of the old teacher, in [0, 1].
            Defaults to 0.999 (SCE's class default).
        interval (int): Update every ``interval`` iterations. Defaults to 1.
        momentum_schedule (str): ``'constant'`` or ``'cosine'``
            (``m_k = end - (end - m0) * (cos(pi * k / K) + 1) / 2`` with
            K = ``runner.max_iters``; SCE's ImageNet recipe uses m0 = 0.99).
            Defaults to ``'constant'``.
        end_momentum (float): Momentum reached at the last iteration by the
            cosine schedule, in [0, 1]. Defaults to 1.0.
        update_buffers (bool): False copies the student's buffers into the
            teacher at every update (mmengine's ``EMAHook`` default; the
            ProSeCo backbone is frozen and the transformer has no batch norm,
            so its buffers never change). True averages floating-point
            buffers like the parameters and copies integer ones (e.g.
            ``num_batches_tracked``). Defaults to False.
    """

    priority = 'NORMAL'  # before CheckpointHook (VERY_LOW) saves the iteration

    def __init__(self,
                 momentum: float = 0.999,
                 interval: int = 1,
                 momentum_schedule: str = 'constant',
                 end_momentum: float = 1.0,
                 update_buffers: bool = False) -> None:
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(
                f'momentum must be in [0, 1] (weight of the old teacher, '
                f'e.g. 0.999), got {momentum}.')
        if not 0.0 <= end_momentum <= 1.0:
            raise ValueError(
                f'end_momentum must be in [0, 1], got {end_momentum}.')
        if not isinstance(interval, int) or interval < 1:
            raise ValueError(
                f'interval must be a positive integer, got {interval!r}.')
        if momentum_schedule not in MOMENTUM_SCHEDULES:
            raise ValueError(f'momentum_schedule must be one of '
                             f'{MOMENTUM_SCHEDULES}, got {momentum_schedule!r}.')
        self.momentum = momentum
        self.interval = interval
        self.momentum_schedule = momentum_schedule
        self.end_momentum = end_momentum
        self.update_buffers = update_buffers

    @staticmethod
    def _teacher_student(runner: Runner) -> Tuple[nn.Module, nn.Module]:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        if not (isinstance(getattr(model, 'teacher', None), nn.Module)
                and isinstance(getattr(model, 'student', None), nn.Module)):
            raise AttributeError(
                f'TeacherEMAHook needs a model with `teacher` and `student` '
                f'submodules; {type(model).__name__} has none.')
        return model.teacher, model.student

    @staticmethod
    def _paired_tensors(teacher: nn.Module, student: nn.Module,
                        kind: str) -> Tuple[List[Tensor], List[Tensor]]:
        """Teacher and student parameters (or buffers), paired by name."""
        teacher_named = dict(getattr(teacher, f'named_{kind}')())
        student_named = dict(getattr(student, f'named_{kind}')())
        if teacher_named.keys() != student_named.keys():
            diff = sorted(teacher_named.keys() ^ student_named.keys())
            raise RuntimeError(
                f'teacher and student {kind} differ, e.g. {diff[:5]}; the '
                'teacher must be built from the same config as the student.')
        names = list(student_named)
        return ([teacher_named[name] for name in names],
                [student_named[name] for name in names])

    def before_train(self, runner: Runner) -> None:
        """Freeze the teacher; copy the student into it when not resuming."""
        teacher, student = self._teacher_student(runner)
        self._teacher_params, self._student_params = self._paired_tensors(
            teacher, student, 'parameters')
        self._teacher_buffers, self._student_buffers = self._paired_tensors(
            teacher, student, 'buffers')
        teacher.requires_grad_(False)
        schedule = 'constant' if self.momentum_schedule == 'constant' \
            else f'cosine to {self.end_momentum}'
        runner.logger.info(
            'TeacherEMAHook: teacher <- m * teacher + (1 - m) * student, '
            f'm = {self.momentum} ({schedule}, every {self.interval} iter). '
            'm weights the OLD TEACHER (SCE/BYOL/MoCo convention): '
            f'MeanTeacherHook(momentum={1 - self.momentum:g}) is equivalent.')
        if runner.iter == 0:
            with torch.no_grad():
                for dst, src in zip(self._teacher_params + self._teacher_buffers,
                                    self._student_params + self._student_buffers):
                    dst.copy_(src)

    def after_train_iter(self,
                         runner: Runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        """Move the teacher towards the student every ``interval`` iters."""
        if (runner.iter + 1) % self.interval != 0:
            return
        momentum = ema_momentum(self.momentum, self.end_momentum,
                                self.momentum_schedule, runner.iter,
                                runner.max_iters)
        self.ema_update(momentum)

    @torch.no_grad()
    def ema_update(self, momentum: float) -> None:
        """``teacher <- momentum * teacher + (1 - momentum) * student``."""
        torch._foreach_lerp_(self._teacher_params, self._student_params,
                             1.0 - momentum)
        if not self._teacher_buffers:
            return
        if self.update_buffers:
            for dst, src in zip(self._teacher_buffers, self._student_buffers):
                if dst.dtype.is_floating_point:
                    dst.lerp_(src, 1.0 - momentum)
                else:
                    dst.copy_(src)
        else:
            torch._foreach_copy_(self._teacher_buffers, self._student_buffers)
