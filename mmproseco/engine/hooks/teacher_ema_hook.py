# Copyright (c) mmproseco contributors. All rights reserved.
"""The one mechanism that keeps every momentum copy of the package: :class:`TeacherEMAHook`."""
import math
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmdet.registry import HOOKS
from mmengine.dist import all_reduce_params
from mmengine.hooks import Hook, LoggerHook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from torch import Tensor, nn

from mmproseco.models.utils import ModulePair, MomentumModelMixin, paired_tensors

MOMENTUM_SCHEDULES = ('constant', 'cosine')
# momentum='auto': the run lasts AUTO_TIME_CONSTANTS time constants 1 / (1 - m0) of the EMA,
# with 1 - m0 kept in AUTO_RANGE.
AUTO_TIME_CONSTANTS = 10
AUTO_RANGE = (1e-4, 0.1)
# Key of the online weights at iteration 0 in a checkpoint, so that a resumed run measures
# its distances from the same start as an uninterrupted one.
INIT_KEY = 'teacher_ema_init'
DISTANCE_NAMES = ('teacher_student_distance', 'teacher_init_distance', 'student_init_distance')


def momentum_for_run_length(num_updates: int) -> float:
    """Base momentum of ``momentum='auto'`` for a run of ``num_updates`` EMA updates.

    ``1 - m0 = clip(10 / T, 1e-4, 0.1)``: the run spans ten time constants of the EMA, so
    whatever its length the teacher forgets its start (``m0**T ~ e^-10`` with a constant
    momentum, ``~ e^-5`` with the cosine ramp) and follows the student with a lag of a
    tenth of the run. A fixed m0 cannot do both: 0.999 over 200 updates keeps 82 % of the
    initial teacher.
    """
    low, high = AUTO_RANGE
    return 1.0 - min(max(AUTO_TIME_CONSTANTS / max(num_updates, 1), low), high)


def ema_momentum(base: float, end: float, schedule: str, iteration: int,
                 max_iters: int) -> float:
    """Momentum m_k (weight of the old copy) used after iteration k = ``iteration``.

    ``'constant'``: ``base``. ``'cosine'`` (BYOL): ``end - (end - base) * (cos(pi k / K) + 1)
    / 2`` with K = ``max_iters``, from ``base`` at k = 0 to ``end`` at k = K.
    """
    if schedule == 'constant':
        return base
    progress = min(iteration / max_iters, 1.0)
    return end - (end - base) * (math.cos(math.pi * progress) + 1) / 2


def parameter_distance(a: Sequence[Tensor], b: Sequence[Tensor]) -> float:
    """L2 distance between two lists of tensors seen as two flat vectors."""
    norms = torch._foreach_norm(torch._foreach_sub(list(a), list(b)))
    return float(torch.linalg.vector_norm(torch.stack(norms)))


def model_momentum_pairs(model: nn.Module) -> List[ModulePair]:
    """The ``(online, momentum)`` pairs of every :class:`MomentumModelMixin` in ``model``
    (the model itself, or e.g. the adapter inside an ``AdaptedDetector``)."""
    return [pair for module in model.modules() if isinstance(module, MomentumModelMixin)
            for pair in module.momentum_pairs()]


@HOOKS.register_module()
class TeacherEMAHook(Hook):
    """Keep every momentum copy of the model an exponential moving average of its online
    module.

    The model declares its ``(online, momentum)`` pairs (:class:`MomentumModelMixin`): the
    teacher of ProSeCo and ImageSCE, CropEmbedder's key encoder, the I2I momentum encoders.
    After every ``interval``-th training iteration k (0-based ``runner.iter``)::

        momentum <- m_k * momentum + (1 - m_k) * online

    **Convention:** ``momentum`` is the weight of the *old copy*, as in SCE, BYOL and MoCo
    (0.999 keeps 99.9 % of the teacher). This is the complement of mmdet's
    ``MeanTeacherHook``, mmengine's ``ExponentialMovingAverage`` and mmpretrain's
    ``CosineEMA``, whose momentum weights the online model:
    ``TeacherEMAHook(momentum=0.996)`` == ``CosineEMA(momentum=0.004)``.

    When training starts from iteration 0 the online weights are copied into the momentum
    copies; on ``--resume`` the checkpoint restores them (they are submodules of the model).
    The hook works on a model wrapped for distributed training: every rank applies the
    same update to the same synchronised online parameters, and the floating-point
    buffers of the momentum copies (batch-norm statistics, which each rank's online
    module gathers on its own data) are averaged over the ranks after every update, so
    all ranks keep the same teacher.

    Every logging interval, and at the last iteration, it logs through the message hub
    (so into ``scalars.json``): ``ema_momentum`` (the last m_k) and the parameter L2
    distances ``teacher_student_distance``, ``teacher_init_distance`` and
    ``student_init_distance`` ("teacher" = all momentum copies, "student" = their online
    counterparts, "init" = the online weights at iteration 0). :meth:`distances` returns
    them, :func:`momentum_distances` finds them on a runner, and every checkpoint holds
    them in ``meta['momentum_distances']``.

    Args:
        momentum (float | str): Base momentum m0, in [0, 1], or ``'auto'`` for
            :func:`momentum_for_run_length` of the run's ``max_iters // interval`` updates.
            Defaults to ``'auto'``.
        momentum_schedule (str): ``'constant'`` or ``'cosine'`` (m0 ramped to
            ``end_momentum`` over ``runner.max_iters``, as BYOL). Defaults to ``'cosine'``.
        end_momentum (float): Momentum of the cosine schedule at the last iteration, in
            [0, 1]. Defaults to 1.0.
        interval (int): Update every ``interval`` iterations. Defaults to 1.
        update_buffers (bool): False copies the online buffers into the momentum copies at
            every update (mmengine's ``EMAHook`` default). True averages floating-point
            buffers like the parameters and copies integer ones (``num_batches_tracked``).
            Defaults to False.
        log_interval (int, optional): Iterations between two logs of the distances;
            defaults to the interval of the runner's ``LoggerHook``.
    """

    priority = 'NORMAL'  # before LoggerHook (BELOW_NORMAL) and CheckpointHook (VERY_LOW)

    def __init__(self,
                 momentum: Union[float, str] = 'auto',
                 momentum_schedule: str = 'cosine',
                 end_momentum: float = 1.0,
                 interval: int = 1,
                 update_buffers: bool = False,
                 log_interval: Optional[int] = None) -> None:
        if momentum != 'auto' and not (isinstance(momentum, (int, float))
                                       and 0.0 <= momentum <= 1.0):
            raise ValueError(f"momentum must be 'auto' or in [0, 1] (weight of the old copy, "
                             f'e.g. 0.999), got {momentum!r}.')
        if not 0.0 <= end_momentum <= 1.0:
            raise ValueError(f'end_momentum must be in [0, 1], got {end_momentum}.')
        if not isinstance(interval, int) or interval < 1:
            raise ValueError(f'interval must be a positive integer, got {interval!r}.')
        if momentum_schedule not in MOMENTUM_SCHEDULES:
            raise ValueError(f'momentum_schedule must be one of {MOMENTUM_SCHEDULES}, got '
                             f'{momentum_schedule!r}.')
        if log_interval is not None and log_interval < 1:
            raise ValueError(f'log_interval must be a positive integer, got {log_interval!r}.')
        self.momentum = momentum
        self.momentum_schedule = momentum_schedule
        self.end_momentum = end_momentum
        self.interval = interval
        self.update_buffers = update_buffers
        self.log_interval = log_interval
        self._checkpoint_init: Optional[Tensor] = None

    def before_train(self, runner: Runner) -> None:
        """Pair the tensors, resolve m0, copy online into momentum when not resuming."""
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        pairs = model_momentum_pairs(model)
        if not pairs:
            raise TypeError(
                f'TeacherEMAHook found no momentum copies in {type(model).__name__}: the model '
                'must implement MomentumModelMixin.momentum_pairs (or drop the hook).')
        self._online, self._momentum, self._online_buffers, self._momentum_buffers = \
            [], [], [], []
        for online, momentum in pairs:
            online_params, momentum_params = paired_tensors(online, momentum, 'parameters')
            online_buffers, momentum_buffers = paired_tensors(online, momentum, 'buffers')
            self._online += online_params
            self._momentum += momentum_params
            self._online_buffers += online_buffers
            self._momentum_buffers += momentum_buffers
        self._float_momentum_buffers = [
            b for b in self._momentum_buffers if b.dtype.is_floating_point]
        if any(p.requires_grad for p in self._momentum):
            raise RuntimeError('momentum copies must be frozen when the model is built '
                               '(mmproseco.models.utils.momentum_copy), before the optimiser '
                               'and DistributedDataParallel see them.')
        self.base_momentum = (momentum_for_run_length(runner.max_iters // self.interval)
                              if self.momentum == 'auto' else float(self.momentum))
        self.last_momentum = self.base_momentum
        self._log_interval = self.log_interval or next(
            (hook.interval for hook in runner.hooks if isinstance(hook, LoggerHook)), 50)
        if runner.iter == 0:
            with torch.no_grad():
                torch._foreach_copy_(self._momentum + self._momentum_buffers,
                                     self._online + self._online_buffers)
        self._init = self._initial_weights(runner)
        self._init_views = [view.view_as(p) for view, p in zip(
            self._init.split([p.numel() for p in self._online]), self._online)]
        schedule = 'constant' if self.momentum_schedule == 'constant' \
            else f'cosine to {self.end_momentum} over {runner.max_iters} iters'
        runner.logger.info(
            f'TeacherEMAHook: {len(pairs)} momentum copies, {len(self._momentum)} tensors; '
            f'momentum <- m * momentum + (1 - m) * online every {self.interval} iter, '
            f'm0 = {self.base_momentum:.6g} ({self.momentum}, {schedule}). m weights the OLD '
            'copy (SCE/BYOL/MoCo convention).')

    def _initial_weights(self, runner: Runner) -> Tensor:
        """Flat clone of the online weights of iteration 0: now, or from the checkpoint."""
        if runner.iter > 0:
            if self._checkpoint_init is not None:
                return self._checkpoint_init.to(self._online[0].device)
            runner.logger.warning('TeacherEMAHook: the checkpoint has no initial weights; '
                                  'distances from init are measured from the resumed ones.')
        return torch.cat([p.detach().flatten() for p in self._online])

    def after_load_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        self._checkpoint_init = checkpoint.get(INIT_KEY)

    def before_save_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        checkpoint[INIT_KEY] = self._init
        checkpoint.setdefault('meta', {})['momentum_distances'] = self.distances()

    def after_train_iter(self,
                         runner: Runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        """Average every ``interval`` iterations; log at the logger's interval."""
        if (runner.iter + 1) % self.interval == 0:
            self.last_momentum = self.momentum_at(runner.iter, runner.max_iters)
            self.ema_update(self.last_momentum)
        if self.every_n_inner_iters(batch_idx, self._log_interval) or \
                self.is_last_train_iter(runner):
            hub = runner.message_hub
            hub.update_scalar('train/ema_momentum', self.last_momentum)
            for name, value in self.distances().items():
                hub.update_scalar(f'train/{name}', value)

    def momentum_at(self, iteration: int, max_iters: int) -> float:
        """m_k of this hook's schedule (:func:`ema_momentum`)."""
        return ema_momentum(self.base_momentum, self.end_momentum, self.momentum_schedule,
                            iteration, max_iters)

    @torch.no_grad()
    def ema_update(self, momentum: float) -> None:
        """``momentum_copy <- momentum * momentum_copy + (1 - momentum) * online``."""
        torch._foreach_lerp_(self._momentum, self._online, 1.0 - momentum)
        if not self._momentum_buffers:
            return
        if self.update_buffers:
            for dst, src in zip(self._momentum_buffers, self._online_buffers):
                if dst.dtype.is_floating_point:
                    dst.lerp_(src, 1.0 - momentum)
                else:
                    dst.copy_(src)
        else:
            torch._foreach_copy_(self._momentum_buffers, self._online_buffers)
        if self._float_momentum_buffers:
            # mmengine's DDP does not broadcast buffers: one teacher on every rank (no-op on
            # one process).
            all_reduce_params(self._float_momentum_buffers, op='mean')

    @torch.no_grad()
    def distances(self) -> Dict[str, float]:
        """Parameter L2 distances now: ``teacher_student_distance`` (momentum copies to
        online modules), ``teacher_init_distance`` and ``student_init_distance`` (each to
        the online weights of iteration 0)."""
        return dict(
            teacher_student_distance=parameter_distance(self._momentum, self._online),
            teacher_init_distance=parameter_distance(self._momentum, self._init_views),
            student_init_distance=parameter_distance(self._online, self._init_views))


def momentum_distances(runner: Runner) -> Dict[str, float]:
    """:meth:`TeacherEMAHook.distances` of ``runner``'s hook, e.g. after ``runner.train()``,
    for a pretraining metrics file."""
    hooks = [hook for hook in runner.hooks if isinstance(hook, TeacherEMAHook)]
    if len(hooks) != 1:
        raise ValueError(f'the runner has {len(hooks)} TeacherEMAHook, expected one')
    return hooks[0].distances()
