"""mmproseco: contrastive learning for object detection with few labels or a domain shift.

Importing the package registers every module into mmdet's registries, so configs load it with
``custom_imports = dict(imports=['mmproseco'], allow_failed_imports=False)``.
"""
from . import datasets, engine, evaluation, models, visualization  # noqa: F401
from .version import __version__

__all__ = ['__version__']
