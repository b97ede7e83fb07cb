
from .ood_auroc import OODAUROC  # noqa: F401
from .prototype_accuracy import PrototypeAccuracy  # noqa: F401
