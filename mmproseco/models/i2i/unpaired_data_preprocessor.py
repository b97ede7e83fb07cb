"""Batch the two domains of an unpaired sample into normalised tensors."""
from typing import Optional, Sequence

from mmdet.registry import MODELS
from mmengine.model import ImgDataPreprocessor
from torch import Tensor


@MODELS.register_module()
class UnpairedI2IDataPreprocessor(ImgDataPreprocessor):
    """Apply mmengine's :class:`ImgDataPreprocessor` to each domain of ``data['inputs']``.

    Input: ``dict(inputs=dict(source=[CHW uint8, ...], target=[...]), data_samples=...)`` as
    collated from :class:`UnpairedDomainDataset`. Output: the same keys with (B, 3, H, W) float
    tensors. The defaults map BGR uint8 to RGB in [-1, 1], the generator's range.

    :meth:`normalize` and :meth:`to_pixels` map single batches between the loader's pixels and
    the generator's range, for models (``AdaptedDetector``) that translate detection inputs.
    """

    def __init__(self,
                 mean: Optional[Sequence[float]] = (127.5, 127.5, 127.5),
                 std: Optional[Sequence[float]] = (127.5, 127.5, 127.5),
                 bgr_to_rgb: bool = True,
                 rgb_to_bgr: bool = False,
                 **kwargs) -> None:
        if mean is None or std is None:
            raise ValueError('UnpairedI2IDataPreprocessor needs mean and std: the generator '
                             'works in a normalised range ([-1, 1] by default)')
        super().__init__(mean=mean, std=std, bgr_to_rgb=bgr_to_rgb, rgb_to_bgr=rgb_to_bgr,
                         **kwargs)
        # the swap is its own inverse, so one index list maps both ways
        self.channel_order = [2, 1, 0] if bgr_to_rgb or rgb_to_bgr else [0, 1, 2]

    def forward(self, data: dict, training: bool = False) -> dict:
        inputs = data['inputs']
        if not isinstance(inputs, dict):
            raise TypeError('UnpairedI2IDataPreprocessor expects data["inputs"] to be a dict of '
                            'domains (use UnpairedDomainDataset), got '
                            f'{type(inputs).__name__}')
        batched = {
            domain: super(UnpairedI2IDataPreprocessor, self).forward(
                dict(inputs=images), training)['inputs']
            for domain, images in inputs.items()
        }
        return dict(inputs=batched, data_samples=data.get('data_samples'))

    def normalize(self, pixels: Tensor) -> Tensor:
        """(B, 3, H, W) float pixels in the loader's channel order → the generator's input."""
        return (pixels[:, self.channel_order] - self.mean) / self.std

    def to_pixels(self, images: Tensor) -> Tensor:
        """Inverse of :meth:`normalize`, rounded to 8-bit values as a saved image would be."""
        return (images * self.std + self.mean)[:, self.channel_order].round().clamp(0, 255)
