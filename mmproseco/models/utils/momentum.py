"""The interface between a model's momentum copies and :class:`TeacherEMAHook`.

A momentum copy (ProSeCo's and ImageSCE's teacher, MoCo's key encoder, the I2I momentum
encoders) is an exponential moving average of an online module::

    momentum <- m * momentum + (1 - m) * online      (m: weight of the OLD copy)

The models only declare their (online, momentum) pairs; :class:`TeacherEMAHook` is the one
place that averages them, as mmpretrain's momentum models do, but driven by a hook, so the
schedule, the initial copy and the logging are written once.
"""
import copy
from abc import abstractmethod
from typing import List, Tuple

import torch.nn as nn
from torch import Tensor

ModulePair = Tuple[nn.Module, nn.Module]


class MomentumModelMixin:
    """A model with momentum copies of some of its modules, averaged by ``TeacherEMAHook``.

    The contract, which the hook checks:

    - :meth:`momentum_pairs` lists the ``(online, momentum)`` module pairs.
    - Every parameter and buffer of a momentum module has a same-named, same-shaped one in
      its online module. The online module may hold more (SCE's predictor, MoCo's loss),
      which are not averaged: a momentum copy carries only what it runs.
    - Momentum modules are frozen when the model is built (:func:`momentum_copy`), so that
      neither the optimiser nor ``DistributedDataParallel`` sees their parameters.
    - The model does not initialise them: the hook copies the online weights into them
      when training starts at iteration 0, and a checkpoint restores them on resume.

    A config that builds such a model adds ``custom_hooks=[dict(type='TeacherEMAHook')]``.
    """

    @abstractmethod
    def momentum_pairs(self) -> List[ModulePair]:
        """The ``(online, momentum)`` module pairs of this model."""


def momentum_copy(module: nn.Module) -> nn.Module:
    """A frozen deep copy of ``module`` to serve as its momentum copy."""
    return copy.deepcopy(module).requires_grad_(False)


def paired_tensors(online: nn.Module, momentum: nn.Module,
                   kind: str) -> Tuple[List[Tensor], List[Tensor]]:
    """Online and momentum ``'parameters'`` or ``'buffers'``, paired by name.

    Returns:
        tuple[list[Tensor], list[Tensor]]: the online tensors and, in the same order, the
        momentum ones; one pair per tensor of ``momentum``.
    """
    online_named = dict(getattr(online, f'named_{kind}')())
    momentum_named = dict(getattr(momentum, f'named_{kind}')())
    missing = sorted(momentum_named.keys() - online_named.keys())
    if missing:
        raise RuntimeError(
            f'the momentum copy {type(momentum).__name__} has {kind} that its online module '
            f'lacks, e.g. {missing[:5]}; it must be a copy of (part of) the online module.')
    shapes = [name for name, tensor in momentum_named.items()
              if tensor.shape != online_named[name].shape]
    if shapes:
        raise RuntimeError(f'momentum and online {kind} differ in shape, e.g. {shapes[:5]}.')
    names = list(momentum_named)
    return [online_named[n] for n in names], [momentum_named[n] for n in names]
