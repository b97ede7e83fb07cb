"""Batched crop-and-augment ops on tensors: every box of a batch in one call, no per-box loop.

Images are float ``(B, 3, H, W)`` RGB in [0, 255]; crops are ``(K, 3, S, S)``. Random draws use
the global torch generator, so ``torch.manual_seed`` (mmengine's ``randomness.seed``) fixes them.
"""
import math
from typing import Sequence, Tuple

import torch
from mmcv.ops import roi_align
from torch import Tensor

#: ITU-R 601 luma weights, as in torchvision's ``rgb_to_grayscale``.
LUMA = (0.299, 0.587, 0.114)


def crop_boxes(images: Tensor, rois: Tensor, size: int, sampling_ratio: int = 0) -> Tensor:
    """Crop and resize every box with one RoIAlign call.

    Args:
        images (Tensor): ``(B, C, H, W)`` float images.
        rois (Tensor): ``(K, 5)`` rows ``[batch_index, x1, y1, x2, y2]`` in pixels, where pixel
            ``i`` covers ``[i, i + 1)``.
        size (int): Output side ``S``.
        sampling_ratio (int): Bilinear samples per output bin and axis; 0 takes
            ``ceil(box / S)``, which averages (anti-aliases) when shrinking.

    Returns:
        Tensor: ``(K, C, S, S)`` crops.
    """
    return roi_align(images, rois, (size, size), 1.0, sampling_ratio, 'avg', True)


def random_resized_rois(rois: Tensor,
                        scale: Sequence[float] = (0.9, 1.0),
                        ratio: Sequence[float] = (3 / 4, 4 / 3)) -> Tensor:
    """Draw one ``RandomResizedCrop`` window inside every box.

    The window covers a fraction ``U(scale)`` of the box area with aspect ratio
    ``exp(U(log ratio))``. torchvision re-draws windows that do not fit; here the side that
    does not fit is clamped to the box, so all boxes take one draw.

    Args:
        rois (Tensor): ``(K, 5)`` boxes as in :func:`crop_boxes`.
        scale (Sequence[float]): Range of the area fraction.
        ratio (Sequence[float]): Range of the aspect ratio (width / height).

    Returns:
        Tensor: ``(K, 5)`` windows, same batch indices.
    """
    num = rois.size(0)
    x1, y1, x2, y2 = rois[:, 1:].unbind(dim=1)
    width, height = x2 - x1, y2 - y1
    area = width * height * rois.new_empty(num).uniform_(*scale)
    log_ratio = rois.new_empty(num).uniform_(math.log(ratio[0]), math.log(ratio[1]))
    aspect = log_ratio.exp()
    win_w = torch.minimum((area * aspect).sqrt(), width)
    win_h = torch.minimum((area / aspect).sqrt(), height)
    left = x1 + (width - win_w) * rois.new_empty(num).uniform_()
    top = y1 + (height - win_h) * rois.new_empty(num).uniform_()
    return torch.stack([rois[:, 0], left, top, left + win_w, top + win_h], dim=1)


def random_hflip(crops: Tensor, prob: float = 0.5) -> Tensor:
    """Mirror each crop of ``(K, C, S, S)`` with probability ``prob``."""
    flip = torch.rand(crops.size(0), device=crops.device) < prob
    return torch.where(flip[:, None, None, None], crops.flip(-1), crops)


def grayscale(crops: Tensor) -> Tensor:
    """``(K, 3, S, S)`` RGB to ``(K, 1, S, S)`` luma."""
    weights = crops.new_tensor(LUMA).view(1, 3, 1, 1)
    return (crops * weights).sum(dim=1, keepdim=True)


def random_grayscale(crops: Tensor, prob: float = 0.2) -> Tensor:
    """Turn each RGB crop of ``(K, 3, S, S)`` gray (3 equal channels) with probability ``prob``."""
    gray = torch.rand(crops.size(0), device=crops.device) < prob
    return torch.where(gray[:, None, None, None], grayscale(crops).expand_as(crops), crops)


def rgb_to_hsv(rgb: Tensor) -> Tensor:
    """``(K, 3, S, S)`` RGB in [0, 1] to HSV with hue in [0, 1)."""
    r, g, b = rgb.unbind(dim=1)
    maxc, _ = rgb.max(dim=1)
    minc, _ = rgb.min(dim=1)
    delta = maxc - minc
    safe_delta = torch.where(delta > 0, delta, torch.ones_like(delta))
    hue = torch.where(
        maxc == r, (g - b) / safe_delta,
        torch.where(maxc == g, 2.0 + (b - r) / safe_delta, 4.0 + (r - g) / safe_delta))
    hue = torch.where(delta > 0, (hue / 6.0) % 1.0, torch.zeros_like(hue))
    saturation = torch.where(maxc > 0, delta / torch.where(maxc > 0, maxc, torch.ones_like(maxc)),
                             torch.zeros_like(maxc))
    return torch.stack([hue, saturation, maxc], dim=1)


def hsv_to_rgb(hsv: Tensor) -> Tensor:
    """Inverse of :func:`rgb_to_hsv`."""
    hue, saturation, value = hsv.unbind(dim=1)
    # Standard formula: channel n is V - V*S*max(0, min(k, 4 - k, 1)), k = (n + 6H) mod 6.
    offsets = hsv.new_tensor([5.0, 3.0, 1.0]).view(1, 3, 1, 1)
    k = (offsets + hue[:, None] * 6.0) % 6.0
    weight = torch.clamp(torch.minimum(k, 4.0 - k), 0.0, 1.0)
    return value[:, None] - value[:, None] * saturation[:, None] * weight


def _per_crop(crops: Tensor, low: float, high: float) -> Tensor:
    return crops.new_empty(crops.size(0), 1, 1, 1).uniform_(low, high)


def color_jitter(crops: Tensor,
                 brightness: float = 0.4,
                 contrast: float = 0.4,
                 saturation: float = 0.4,
                 hue: float = 0.1) -> Tensor:
    """torchvision's ``ColorJitter`` on every crop, each with its own factors.

    Applied in the fixed order brightness, contrast, saturation, hue (torchvision shuffles it).

    Args:
        crops (Tensor): ``(K, 3, S, S)`` RGB in [0, 255].
        brightness, contrast, saturation (float): Factors are drawn from ``[1 - x, 1 + x]``.
        hue (float): Hue shift drawn from ``[-hue, hue]`` turns (at most 0.5).

    Returns:
        Tensor: Jittered crops, clamped to [0, 255].
    """
    out = crops / 255.0
    if brightness > 0:
        out = (out * _per_crop(out, 1 - brightness, 1 + brightness)).clamp(0, 1)
    if contrast > 0:
        mean = grayscale(out).mean(dim=(1, 2, 3), keepdim=True)
        factor = _per_crop(out, 1 - contrast, 1 + contrast)
        out = (factor * out + (1 - factor) * mean).clamp(0, 1)
    if saturation > 0:
        factor = _per_crop(out, 1 - saturation, 1 + saturation)
        out = (factor * out + (1 - factor) * grayscale(out)).clamp(0, 1)
    if hue > 0:
        hsv = rgb_to_hsv(out)
        shift = _per_crop(out, -hue, hue)[:, 0]
        hsv = torch.stack([(hsv[:, 0] + shift) % 1.0, hsv[:, 1], hsv[:, 2]], dim=1)
        out = hsv_to_rgb(hsv)
    return out * 255.0


def random_color_jitter(crops: Tensor, prob: float = 0.25, **jitter) -> Tensor:
    """Apply :func:`color_jitter` to each crop with probability ``prob``."""
    apply = torch.rand(crops.size(0), device=crops.device) < prob
    if not apply.any():
        return crops
    out = crops.clone()
    out[apply] = color_jitter(crops[apply], **jitter)
    return out


def normalize(crops: Tensor, mean: Tensor, std: Tensor) -> Tensor:
    """``(crops - mean) / std`` with ``(3,)`` mean and std."""
    return (crops - mean.view(1, -1, 1, 1)) / std.view(1, -1, 1, 1)


def augmented_view(images: Tensor, rois: Tensor, size: int,
                   rrc_scale: Tuple[float, float], rrc_ratio: Tuple[float, float],
                   flip_prob: float, jitter_prob: float, jitter: dict,
                   grayscale_prob: float, sampling_ratio: int = 0) -> Tensor:
    """One random view of every box: RandomResizedCrop, flip, color jitter, grayscale.

    The RandomResizedCrop window is cut straight from the image (one resampling, not two).

    Returns:
        Tensor: ``(K, 3, S, S)`` RGB in [0, 255].
    """
    crops = crop_boxes(images, random_resized_rois(rois, rrc_scale, rrc_ratio), size,
                       sampling_ratio)
    crops = random_hflip(crops, flip_prob)
    crops = random_color_jitter(crops, jitter_prob, **jitter)
    return random_grayscale(crops, grayscale_prob)
