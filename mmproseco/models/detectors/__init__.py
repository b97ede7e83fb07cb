from .adapted_detector import AdaptedDetector
from .detreg import DETReg
from .proseco import ProSeCo

__all__ = ['AdaptedDetector', 'DETReg', 'ProSeCo']
