"""Photometric transforms of SCE's strong view that mmdet 3.3 / mmcv 2.1 do not provide.

SCE's strong view is ColorJitter(0.4, 0.4, 0.2, 0.1) with p 0.8, grayscale with p 0.2 and a
Gaussian blur (23 px, sigma 0.1-2) with p 0.5. mmcv has ``RandomGrayscale`` and ``RandomApply``;
mmdet's ``PhotoMetricDistortion`` is not torchvision's ColorJitter (additive brightness, each
factor on with p 0.5, channel swaps, no clipping) and neither library has a blur transform. Both
transforms here change pixels only, never boxes or geometry.
"""
from typing import Sequence

import cv2
import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmdet.registry import TRANSFORMS


@TRANSFORMS.register_module()
class ColorJitter(BaseTransform):
    """torchvision-style colour jitter of a BGR uint8 image.

    Draws a brightness, contrast and saturation factor uniformly in ``[max(0, 1 - x), 1 + x]``
    and a hue shift in ``[-hue, hue]`` (fraction of the hue circle), then applies the four
    adjustments in a random order with mmcv's ``adjust_brightness``, ``adjust_contrast``,
    ``adjust_color`` (saturation) and ``adjust_hue``, as ``torchvision.transforms.ColorJitter``
    does. A zero strength skips that adjustment.

    Required Keys: img (np.uint8, BGR). Modified Keys: img.

    Args:
        brightness (float): Brightness strength, >= 0. Defaults to 0.4.
        contrast (float): Contrast strength, >= 0. Defaults to 0.4.
        saturation (float): Saturation strength, >= 0. Defaults to 0.2.
        hue (float): Hue strength in [0, 0.5]. Defaults to 0.1.
    """

    def __init__(self,
                 brightness: float = 0.4,
                 contrast: float = 0.4,
                 saturation: float = 0.2,
                 hue: float = 0.1) -> None:
        for field, value in (('brightness', brightness), ('contrast', contrast),
                             ('saturation', saturation)):
            if value < 0:
                raise ValueError(f'ColorJitter: {field} must be >= 0, got {value}')
        if not 0 <= hue <= 0.5:
            raise ValueError(f'ColorJitter: hue must be in [0, 0.5], got {hue}')
        self.brightness, self.contrast = brightness, contrast
        self.saturation, self.hue = saturation, hue

    @cache_randomness
    def _draw(self) -> tuple:
        """(order (4, ), brightness, contrast, saturation factors, hue shift)."""
        factors = [np.random.uniform(max(0., 1 - s), 1 + s)
                   for s in (self.brightness, self.contrast, self.saturation)]
        return (np.random.permutation(4), *factors, np.random.uniform(-self.hue, self.hue))

    def transform(self, results: dict) -> dict:
        order, brightness, contrast, saturation, hue = self._draw()
        adjustments = (
            (self.brightness, lambda img: mmcv.adjust_brightness(img, brightness, backend='cv2')),
            (self.contrast, lambda img: mmcv.adjust_contrast(img, contrast, backend='cv2')),
            (self.saturation, lambda img: mmcv.adjust_color(img, saturation, backend='cv2')),
            (self.hue, lambda img: mmcv.adjust_hue(img, hue, backend='cv2')),
        )
        img = results['img']
        for index in order:
            strength, adjust = adjustments[index]
            # Like torchvision, skip a disabled adjustment (the HSV round trip of hue is lossy).
            if strength > 0:
                img = adjust(img)
        results['img'] = img
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(brightness={self.brightness}, contrast='
                f'{self.contrast}, saturation={self.saturation}, hue={self.hue})')


@TRANSFORMS.register_module()
class RandomGaussianBlur(BaseTransform):
    """Gaussian blur with a random sigma (wrap it in ``RandomApply`` for a probability).

    Required Keys: img. Modified Keys: img.

    Args:
        kernel_size (int): Odd kernel side in pixels. Defaults to 23 (SCE). With sigma <= 2 the
            kernel is cut beyond 3 sigma = 6 px anyway, so it rarely matters on small images.
        sigma_range (Sequence[float]): (low, high) of the uniform sigma draw, 0 < low <= high.
            Defaults to (0.1, 2.0).
    """

    def __init__(self, kernel_size: int = 23, sigma_range: Sequence[float] = (0.1, 2.0)) -> None:
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f'RandomGaussianBlur: kernel_size must be a positive odd integer, '
                             f'got {kernel_size}')
        if len(sigma_range) != 2 or not 0 < sigma_range[0] <= sigma_range[1]:
            raise ValueError(f'RandomGaussianBlur: sigma_range must be (low, high) with '
                             f'0 < low <= high, got {sigma_range}')
        self.kernel_size = kernel_size
        self.sigma_range = tuple(sigma_range)

    @cache_randomness
    def _draw_sigma(self) -> float:
        return np.random.uniform(*self.sigma_range)

    def transform(self, results: dict) -> dict:
        size = (self.kernel_size, self.kernel_size)
        results['img'] = cv2.GaussianBlur(results['img'], size, self._draw_sigma())
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(kernel_size={self.kernel_size}, '
                f'sigma_range={self.sigma_range})')
