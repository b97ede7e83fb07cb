from . import backbones, detectors, embedders, heads, i2i, losses, selfsup, task_modules  # noqa: F401
