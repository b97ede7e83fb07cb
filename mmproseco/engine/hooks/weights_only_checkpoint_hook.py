"""Checkpoints that ``torch.load(..., weights_only=True)`` reads."""
from typing import Any

import numpy as np
from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer
from mmengine.registry import HOOKS

# Marks a HistoryBuffer saved as plain data, so that loading rebuilds only what this hook wrote.
PLAIN_HISTORY_KEY = '__history_buffer__'


def to_plain(value: Any) -> Any:
    """``value`` with every numpy scalar and array turned into Python numbers and lists, and
    every :class:`HistoryBuffer` into a marked dict of its histories, recursively."""
    if isinstance(value, HistoryBuffer):
        return {PLAIN_HISTORY_KEY: True, 'max_length': value.max_length,
                'log_history': value._log_history.tolist(),
                'count_history': value._count_history.tolist()}
    if isinstance(value, dict):
        return {key: to_plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_plain(item) for item in value)
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    return value


def history_buffers_from_plain(log_scalars: dict) -> dict:
    """Inverse of :func:`to_plain` for the message hub's ``log_scalars``."""
    return {key: HistoryBuffer(value['log_history'], value['count_history'], value['max_length'])
            if isinstance(value, dict) and value.get(PLAIN_HISTORY_KEY) else value
            for key, value in log_scalars.items()}


@HOOKS.register_module()
class WeightsOnlyCheckpointHook(Hook):
    """Save checkpoints without pickled Python objects, so that torch's safe loader reads them.

    torch >= 2.6 loads with ``weights_only=True`` by default, and mmengine 0.10.7 pickles its
    message hub as it is: :class:`HistoryBuffer` objects, whose state holds bound methods
    (pickled through ``builtins.getattr``), and numpy scalars. Allow-listing ``getattr`` would
    let any checkpoint run code, so instead this hook writes the hub and the meta as plain
    numbers, strings and lists, and rebuilds the buffers when a checkpoint is loaded
    (``--resume``). Model, optimizer and scheduler states are tensors and plain values already.
    """

    priority = 'VERY_LOW'  # after every hook that adds to the checkpoint

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        for key in ('meta', 'message_hub'):
            if key in checkpoint:
                checkpoint[key] = to_plain(checkpoint[key])

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        hub = checkpoint.get('message_hub')
        if isinstance(hub, dict) and 'log_scalars' in hub:
            hub['log_scalars'] = history_buffers_from_plain(hub['log_scalars'])
