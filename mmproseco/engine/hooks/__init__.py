from .teacher_ema_hook import (TeacherEMAHook, ema_momentum, momentum_distances,  # noqa: F401
                               momentum_for_run_length)
