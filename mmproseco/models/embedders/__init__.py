from .base_crop_model import BaseCropModel
from .crop_classifier import CropClassifier
from .crop_data_preprocessor import ObjectCropDataPreprocessor
from .crop_embedder import CropEmbedder

__all__ = ['BaseCropModel', 'CropClassifier', 'CropEmbedder', 'ObjectCropDataPreprocessor']
