from .frozen_backbone import check_frozen_backbone_has_weights

__all__ = ['check_frozen_backbone_has_weights']
