from .crop_classifier_head import CropClassifierHead
from .detreg_head import DETRegHead
from .embedding_head import ContrastiveEmbeddingHead
from .locsce_head import LocSCEHead

__all__ = ['ContrastiveEmbeddingHead', 'CropClassifierHead', 'DETRegHead', 'LocSCEHead']
