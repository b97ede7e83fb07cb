from . import detectors, heads, i2i, losses, selfsup, task_modules  # noqa: F401
