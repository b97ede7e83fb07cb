from .feature_queue import FeatureQueue
from .frozen_backbone import check_frozen_backbone_has_weights
from .momentum import ModulePair, MomentumModelMixin, momentum_copy, paired_tensors

__all__ = [
    'FeatureQueue', 'MomentumModelMixin', 'ModulePair', 'check_frozen_backbone_has_weights',
    'momentum_copy', 'paired_tensors'
]
