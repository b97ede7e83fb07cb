"""The error a diverged training run stops with, shared by the guard hook and the assigners."""
from typing import Any, Iterable, Optional, Tuple

import torch
from mmengine.logging import MessageHub
from torch import Tensor

DIVERGENCE_FIX = ('lower the learning rate (optim_wrapper.optimizer.lr) or clip the gradients '
                  '(optim_wrapper.clip_grad=dict(max_norm=0.1))')


class DivergenceError(RuntimeError):
    """Training diverged: a loss, a gradient norm, the weights or a matching cost is not finite.

    Built by :func:`divergence_message`, so the guard hook and the assigners say the same thing:
    the iteration, what is not finite, the last good checkpoint and the fix.
    """


def divergence_message(symptom: str, iteration: Optional[int] = None,
                       last_checkpoint: Optional[str] = None) -> str:
    """``training diverged at iteration <i>: <symptom>; <last good checkpoint>`` and the fix.

    Args:
        symptom (str): what is not finite, e.g. ``'the loss is nan'``.
        iteration (int, optional): the 1-based iteration (as the logs count) it happened in.
        last_checkpoint (str, optional): the checkpoint saved last, before the divergence.
    """
    where = f' at iteration {iteration}' if iteration is not None else ''
    if last_checkpoint:
        saved = f'the last good checkpoint is {last_checkpoint}'
        fix = f'{DIVERGENCE_FIX}, then resume with `--resume {last_checkpoint}`'
    else:
        saved, fix = 'no checkpoint was saved before it', f'{DIVERGENCE_FIX}, then train again'
    return f'training diverged{where}: {symptom}; {saved}\nFix: {fix}'


def divergence_error(symptom: str) -> DivergenceError:
    """A :class:`DivergenceError` for code without the runner (the assigners).

    The iteration and the last checkpoint come from the current ``MessageHub``, where the
    runner's ``RuntimeInfoHook`` and ``CheckpointHook`` record them.
    """
    hub = MessageHub.get_current_instance()
    iteration = hub.get_info('iter')
    return DivergenceError(divergence_message(
        symptom, None if iteration is None else iteration + 1, hub.get_info('last_ckpt')))


def first_non_finite(named_tensors: Iterable[Tuple[str, Any]]) -> Optional[str]:
    """The name of the first floating-point tensor with a NaN or an infinite entry, or None.

    Entries that are not floating-point tensors (counters, labels, metadata) are skipped.
    The guard calls this after every step, so the check is one host sync for all tensors;
    the per-tensor search runs only once something is not finite.
    """
    floats = [(name, tensor) for name, tensor in named_tensors
              if isinstance(tensor, Tensor) and tensor.is_floating_point()]
    if not floats or torch.stack([torch.isfinite(t).all() for _, t in floats]).all():
        return None
    return next(name for name, tensor in floats if not torch.isfinite(tensor).all())


def check_finite(tensor: Tensor, what: str) -> None:
    """Raise :class:`DivergenceError` unless every entry of ``tensor`` (``what``) is finite.

    The assigners check what they solve: scipy's Hungarian solver would otherwise stop with
    "matrix contains invalid numeric entries", which does not say that the weights diverged.
    """
    if not torch.isfinite(tensor).all():
        raise divergence_error(f'{what} is not finite (the model predicts NaN or infinite '
                               'values)')
