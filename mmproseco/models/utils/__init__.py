from .feature_queue import FeatureQueue
from .momentum import MomentumModelMixin, ModulePair, momentum_copy, paired_tensors

__all__ = ['FeatureQueue', 'MomentumModelMixin', 'ModulePair', 'momentum_copy', 'paired_tensors']
