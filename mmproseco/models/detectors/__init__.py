from .detreg import DETReg
from .proseco import ProSeCo

__all__ = ['DETReg', 'ProSeCo']
