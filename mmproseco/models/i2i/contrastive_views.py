"""Augmented views and jigsaw patches for the local-global loss, on batched tensors.

DetCo/PIRL augmentations: a random resized crop covering at least ``min_crop_area`` of the image,
horizontal flip, Gaussian blur, colour jitter (brightness, contrast, saturation; hue jitter is left
out) and random grayscale. Everything runs on the (B, 3, H, W) tensors in [-1, 1] that the generator
sees, so no image decoding is repeated.
"""
from typing import Tuple

import torch
import torch.nn.functional as F
from mmdet.registry import MODELS
from torch import Tensor

# ITU-R 601 luma weights, as in PIL's grayscale conversion.
_LUMA = (0.299, 0.587, 0.114)


def jigsaw_patches(images: Tensor, grid: int = 4) -> Tensor:
    """Cut each image into a ``grid × grid`` set of non-overlapping patches in a random order.

    Rows/columns that do not divide evenly are dropped from the bottom/right.

    Args:
        images (Tensor): (B, C, H, W).
        grid (int): patches per side.

    Returns:
        Tensor: (B·grid², C, H // grid, W // grid), patches of image ``b`` at ``b·grid² …``.
    """
    batch, channels, height, width = images.shape
    ph, pw = height // grid, width // grid
    cropped = images[..., :ph * grid, :pw * grid]
    patches = cropped.unflatten(2, (grid, ph)).unflatten(4, (grid, pw))  # B,C,g,ph,g,pw
    patches = patches.permute(0, 2, 4, 1, 3, 5).flatten(1, 2)  # B, g², C, ph, pw
    order = torch.argsort(torch.rand(batch, grid * grid, device=images.device), dim=1)
    patches = patches[torch.arange(batch, device=images.device)[:, None], order]
    return patches.flatten(0, 1)


def _gaussian_blur(images: Tensor, sigma: Tensor, kernel_size: int) -> Tensor:
    """Blur image ``b`` of (B, C, H, W) with a separable Gaussian of std ``sigma[b]``."""
    batch, channels = images.shape[:2]
    offsets = torch.arange(kernel_size, device=images.device) - kernel_size // 2
    kernel = torch.exp(-offsets[None] ** 2 / (2 * sigma[:, None] ** 2))
    kernel = kernel / kernel.sum(dim=1, keepdim=True)  # (B, k)
    kernel = kernel.repeat_interleave(channels, dim=0)  # (B·C, k)
    x = images.reshape(1, batch * channels, *images.shape[2:])
    pad = kernel_size // 2
    x = F.conv2d(F.pad(x, (pad, pad, 0, 0), mode='reflect'), kernel[:, None, None, :],
                 groups=batch * channels)
    x = F.conv2d(F.pad(x, (0, 0, pad, pad), mode='reflect'), kernel[:, None, :, None],
                 groups=batch * channels)
    return x.reshape_as(images)


@MODELS.register_module()
class ContrastiveViews:
    """Make one augmented view of each image, and its jigsaw patches.

    Args:
        min_crop_area (float): smallest crop area as a fraction of the image (0.6).
        flip_prob (float): horizontal flip probability.
        blur_prob (float): Gaussian blur probability (σ ∈ [0.1, 2.0] px).
        jitter_prob (float): colour-jitter probability.
        jitter_strength (float): max relative change of brightness, contrast and saturation.
        gray_prob (float): grayscale probability.
        grid (int): jigsaw patches per side (4 → 16 patches).
    """

    def __init__(self,
                 min_crop_area: float = 0.6,
                 flip_prob: float = 0.5,
                 blur_prob: float = 0.5,
                 jitter_prob: float = 0.8,
                 jitter_strength: float = 0.4,
                 gray_prob: float = 0.2,
                 grid: int = 4) -> None:
        if not 0 < min_crop_area <= 1:
            raise ValueError('ContrastiveViews: min_crop_area must be in (0, 1], '
                             f'got {min_crop_area}')
        if grid < 1:
            raise ValueError(f'ContrastiveViews: grid must be >= 1, got {grid}')
        self.min_crop_area = min_crop_area
        self.flip_prob = flip_prob
        self.blur_prob = blur_prob
        self.jitter_prob = jitter_prob
        self.jitter_strength = jitter_strength
        self.gray_prob = gray_prob
        self.grid = grid

    def _crop(self, images: Tensor) -> Tensor:
        height, width = images.shape[-2:]
        crops = []
        for image in images:
            area = torch.empty(1).uniform_(self.min_crop_area, 1).item()
            aspect = torch.empty(1).uniform_(3 / 4, 4 / 3).item()
            ch = min(height, max(1, round((area * height * width / aspect)**0.5)))
            cw = min(width, max(1, round((area * height * width * aspect)**0.5)))
            top = torch.randint(0, height - ch + 1, (1, )).item()
            left = torch.randint(0, width - cw + 1, (1, )).item()
            crop = image[None, :, top:top + ch, left:left + cw]
            crops.append(F.interpolate(crop, (height, width), mode='bilinear', align_corners=False))
        return torch.cat(crops)

    def _jitter(self, images: Tensor) -> Tensor:
        batch = images.shape[0]
        s = self.jitter_strength

        def factor() -> Tensor:
            return torch.empty(batch, 1, 1, 1, device=images.device).uniform_(1 - s, 1 + s)

        x = (images + 1) / 2  # colour maths in [0, 1]
        x = x * factor()
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        x = (x - mean) * factor() + mean
        gray = (x * x.new_tensor(_LUMA)[:, None, None]).sum(dim=1, keepdim=True)
        x = (x - gray) * factor() + gray
        return x.clamp(0, 1) * 2 - 1

    def _apply_where(self, images: Tensor, transformed: Tensor, prob: float) -> Tensor:
        chosen = torch.rand(images.shape[0], 1, 1, 1, device=images.device) < prob
        return torch.where(chosen, transformed, images)

    def __call__(self, images: Tensor) -> Tuple[Tensor, Tensor]:
        """(B, 3, H, W) in [-1, 1] → view (B, 3, H, W) and its patches
        (B·grid², 3, H/grid, W/grid)."""
        with torch.no_grad():
            view = self._crop(images)
            view = self._apply_where(view, view.flip(-1), self.flip_prob)
            sigma = torch.empty(view.shape[0], device=view.device).uniform_(0.1, 2.0)
            view = self._apply_where(view, _gaussian_blur(view, sigma, 7), self.blur_prob)
            view = self._apply_where(view, self._jitter(view), self.jitter_prob)
            gray = (view * view.new_tensor(_LUMA)[:, None, None]).sum(dim=1, keepdim=True)
            view = self._apply_where(view, gray.expand_as(view), self.gray_prob)
        return view, jigsaw_patches(view, self.grid)
