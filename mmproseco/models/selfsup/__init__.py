from .image_sce import ImageSCE

__all__ = ['ImageSCE']
