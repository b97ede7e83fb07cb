from .divergence_guard_hook import DivergenceGuardHook  # noqa: F401
from .teacher_ema_hook import TeacherEMAHook  # noqa: F401
from .weights_only_checkpoint_hook import WeightsOnlyCheckpointHook  # noqa: F401
