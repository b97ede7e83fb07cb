"""The memory format of the model's convolution weights (channels-last on CPU)."""
import torch
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

FORMATS = ('channels_last', 'contiguous_format')


@HOOKS.register_module()
class MemoryFormatHook(Hook):
    """Store the model's 4-D weights in ``memory_format`` before the run starts.

    oneDNN's CPU convolutions are faster on NHWC (``channels_last``), and a convolution whose
    weight is channels-last returns a channels-last output, so the backbone and neck run NHWC
    end to end without touching the data pipeline. ``Module.to`` rewrites each parameter's
    ``.data`` in place, so the optimizer built before ``before_run`` keeps its parameters, and
    weights loaded afterwards are copied into the NHWC storage. The format is not part of the
    values: the checkpoints load into any model.

    Args:
        memory_format (str): ``'channels_last'`` or ``'contiguous_format'`` (PyTorch's
            default, i.e. what the model has without this hook).
    """

    priority = 'VERY_HIGH'

    def __init__(self, memory_format: str = 'channels_last') -> None:
        if memory_format not in FORMATS:
            raise ValueError(f'MemoryFormatHook: memory_format must be one of {FORMATS}, '
                             f'got {memory_format!r}')
        self.memory_format = getattr(torch, memory_format)

    def before_run(self, runner) -> None:
        self.apply(runner.model)

    def apply(self, model: torch.nn.Module) -> torch.nn.Module:
        return model.to(memory_format=self.memory_format)
