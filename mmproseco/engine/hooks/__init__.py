from .teacher_ema_hook import TeacherEMAHook  # noqa: F401
from .divergence_guard_hook import DivergenceGuardHook  # noqa: F401
