from . import transforms  # noqa: F401
from .checked_coco import CheckedCocoDataset  # noqa: F401
from .object_crops import ObjectCropDataset  # noqa: F401
from .unlabeled import UnlabeledDetDataset  # noqa: F401
from .unpaired import UnpairedDomainDataset  # noqa: F401
