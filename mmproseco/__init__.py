"""mmproseco: contrastive learning for object detection with few labels or a domain shift.

Importing the package registers every module into mmdet's registries, so configs load it with
``custom_imports = dict(imports=['mmproseco'], allow_failed_imports=False)``.
"""
import os

# mmengine 0.10.7 calls torch.load without ``weights_only``; torch >= 2.6 then refuses its own
# checkpoints (they pickle a HistoryBuffer). The variable is read at call time, so setting it
# here, before any Runner exists, makes ``--resume`` and ``load_from`` work.
os.environ.setdefault('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
# DVC is called from our tools and tests; it must never phone home from an offline machine.
os.environ.setdefault('DVC_NO_ANALYTICS', '1')

from .version import __version__  # noqa: E402
from . import datasets, engine, evaluation, models, visualization  # noqa: E402,F401

__all__ = ['__version__']
