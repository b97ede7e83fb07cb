from .divergence_guard_hook import DivergenceGuardHook  # noqa: F401
from .memory_format_hook import MemoryFormatHook  # noqa: F401
from .teacher_ema_hook import (TeacherEMAHook, ema_momentum, momentum_distances,  # noqa: F401
                               momentum_for_run_length)
from .weights_only_checkpoint_hook import WeightsOnlyCheckpointHook  # noqa: F401
