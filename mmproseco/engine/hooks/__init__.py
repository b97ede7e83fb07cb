from .teacher_ema_hook import TeacherEMAHook  # noqa: F401
