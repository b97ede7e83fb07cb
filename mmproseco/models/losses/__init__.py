from .gan_loss import GANLoss, gan_loss  # noqa: F401
from .local_global import LocalGlobalContrastiveLoss, local_global_nce, queue_info_nce  # noqa: F401
from .locsce import LocSCELoss, locsce_positive_mask  # noqa: F401
from .patch_nce import PatchNCELoss, patch_nce_loss  # noqa: F401
from .ranked_contrastive import (RankedContrastiveLoss, SupConLoss,  # noqa: F401
                                 SuperclassContrastiveLoss, ranked_contrastive_loss)
from .sce import SCELoss, sce_loss  # noqa: F401
