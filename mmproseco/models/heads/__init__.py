from .detreg_head import DETRegHead
from .locsce_head import LocSCEHead

__all__ = ['DETRegHead', 'LocSCEHead']
