from . import (backbones, detectors, embedders, heads, i2i, losses, selfsup,  # noqa: F401
               task_modules, utils)
