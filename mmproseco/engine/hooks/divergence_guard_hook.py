# Copyright (c) mmproseco contributors. All rights reserved.
import logging
import math
from typing import Optional

from mmdet.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.optim import AmpOptimWrapper, OptimWrapperDict
from torch import Tensor

from ..divergence import DivergenceError, divergence_message, first_non_finite

ACTIONS = ('stop', 'warn')


@HOOKS.register_module()
class DivergenceGuardHook(Hook):
    """Stop training at the first iteration whose loss, gradient norm or weights are not finite.

    After every training iteration it checks, in this order, the losses of the iteration's
    outputs (the log variables whose name holds ``loss``), the gradient norm when the optimizer
    wrapper logs one (``clip_grad``), and every floating-point tensor of the model's state
    after the optimizer step (a teacher and the BN statistics included). At lr = 1e10 a DETR's
    weights are NaN after one step, before any loss shows it.

    It runs before mmengine's ``CheckpointHook`` (priority ``LOW`` against ``VERY_LOW``), so a
    diverged model is never saved nor made ``last_checkpoint``, and after the hooks of priority
    ``NORMAL`` that update a teacher. The error names the iteration (1-based, as the logs count)
    and the last checkpoint saved before it.

    Args:
        action (str): ``'stop'`` raises :class:`DivergenceError`; ``'warn'`` logs the same
            message once, at the first diverged iteration, and lets training go on.
    """

    priority = 'LOW'

    def __init__(self, action: str = 'stop') -> None:
        if action not in ACTIONS:
            raise ValueError(f'DivergenceGuardHook: action must be one of {ACTIONS}, '
                             f'got {action!r}')
        self.action = action
        self._warned = False

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        symptom = self._symptom(runner, outputs or {})
        if symptom is None:
            return
        message = divergence_message(symptom, runner.iter + 1,
                                     runner.message_hub.get_info('last_ckpt'))
        if self.action == 'stop':
            raise DivergenceError(message)
        if not self._warned:
            self._warned = True
            print_log(f'{message}\n(DivergenceGuardHook(action="warn"): training goes on and '
                      'its next checkpoints hold these weights)', logger='current',
                      level=logging.WARNING)

    @staticmethod
    def _symptom(runner, outputs: dict) -> Optional[str]:
        """What is not finite after this iteration, or None."""
        for name, value in outputs.items():
            if 'loss' not in name:
                continue
            value = float(value.detach() if isinstance(value, Tensor) else value)
            if not math.isfinite(value):
                return f'the {name} is {value}'
        # A dynamic loss scale makes inf gradients on purpose (the step is then skipped).
        wrappers = runner.optim_wrapper.values() if isinstance(
            runner.optim_wrapper, OptimWrapperDict) else [runner.optim_wrapper]
        grad_norm = runner.message_hub.log_scalars.get('train/grad_norm')
        if grad_norm is not None and not any(isinstance(w, AmpOptimWrapper) for w in wrappers) \
                and not math.isfinite(grad_norm.current()):
            return f'the gradient norm is {grad_norm.current()}'
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        tensor = first_non_finite(model.state_dict().items())
        if tensor is not None:
            return f'the weights {tensor} are not finite after the optimizer step'
        return None
