"""Synthetic fog with the Koschmieder model, as in Foggy Cityscapes (Sakaridis et al., 2018).

``I = J·t + A·(1 − t)`` with transmission ``t = exp(−β·d)``: ``J`` is the clear image in [0, 1],
``d`` the scene depth in metres, ``β`` the attenuation coefficient in 1/m (visibility ≈ 3/β) and
``A`` the atmospheric light. Three depth proxies are provided: a ground plane for forward-looking
street photos, a constant slant range for nadir aerial tiles, where patchy haze comes instead
from a β map modulated by low-frequency fractal noise, and a ramp in a random direction per
image, for generated scenes whose fog must vary within the image (:func:`depth_map`).
"""
import math
from typing import Optional, Tuple, Union

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmdet.registry import TRANSFORMS


def plasma_noise(height: int, width: int, rng: np.random.Generator, octaves: int = 5) -> np.ndarray:
    """Low-frequency fractal noise in [0, 1].

    Octave ``o`` is a uniform ``s×s`` grid (``s = 2**(o + 2)``) upsampled bicubically to the image
    size and weighted by ``1 / 2**o``; the sum is rescaled to [0, 1].

    Returns:
        np.ndarray: (height, width) float64.
    """
    noise = np.zeros((height, width), dtype=np.float64)
    for octave in range(octaves):
        size = 2**(octave + 2)
        grid = rng.uniform(size=(size, size)).astype(np.float32)
        noise += cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC) / 2**octave
    noise -= noise.min()
    return noise / (noise.max() + 1e-8)


def ground_plane_depth(height: int,
                       width: int,
                       horizon: float = 0.35,
                       d_min: float = 3.0,
                       d_max: float = 300.0) -> np.ndarray:
    """Depth proxy of a flat ground seen by a forward-looking camera.

    Below the horizon row ``d = d_min·(1 − horizon)/(y − horizon)`` with ``y`` the normalised row
    centre; above it ``d = d_max``; clipped to ``[d_min, d_max]``.

    Returns:
        np.ndarray: (height, width) depth in metres.
    """
    y = (np.arange(height) + 0.5) / height
    depth = np.where(y > horizon, d_min * (1 - horizon) / np.maximum(y - horizon, 1e-3), d_max)
    depth = np.clip(depth, d_min, d_max)
    return np.repeat(depth[:, None], width, axis=1)


def ramp_depth(height: int, width: int, near: float, far: float, angle: float) -> np.ndarray:
    """Depth that grows linearly from ``near`` to ``far`` along the direction ``angle``.

    With ``u = x·cos(angle) + y·sin(angle)`` at the pixel centres (x to the right, y down),
    ``d = near + (far − near)·(u − u_min)/(u_max − u_min)``: the image corner furthest against
    the direction is at ``near`` and the opposite corner at ``far``.

    Returns:
        np.ndarray: (height, width) depth in metres.
    """
    y, x = np.mgrid[0:height, 0:width] + 0.5
    u = x * math.cos(angle) + y * math.sin(angle)
    u = (u - u.min()) / max(u.max() - u.min(), 1e-12)
    return near + (far - near) * u


def depth_map(spec: Union[float, str],
              height: int,
              width: int,
              seed: int = 0,
              depth_range: Tuple[float, float] = (20.0, 120.0)) -> np.ndarray:
    """The depth proxy ``spec``: a number (constant depth in metres), ``'ground'``
    (:func:`ground_plane_depth`) or ``'ramp'`` (:func:`ramp_depth` over ``depth_range``, in a
    direction drawn uniformly from ``seed``, so each image of a fogged set gets its own).

    Returns:
        np.ndarray: (height, width) depth in metres.
    """
    if spec == 'ground':
        return ground_plane_depth(height, width)
    if spec == 'ramp':
        # its own stream: the fractal noise of the same image draws from default_rng(seed)
        angle = np.random.default_rng((seed, 1)).uniform(0, 2 * math.pi)
        return ramp_depth(height, width, *depth_range, angle)
    try:
        value = float(spec)
    except ValueError:
        raise ValueError(f"depth must be a number, 'ground' or 'ramp', got {spec!r}") from None
    if value <= 0:
        raise ValueError(f'a constant depth must be > 0, got {value}')
    return np.full((height, width), value)


def koschmieder_fog(image: np.ndarray,
                    depth: np.ndarray,
                    beta: float,
                    atmospheric_light: float = 0.85,
                    beta_noise: float = 0.0,
                    seed: int = 0) -> np.ndarray:
    """Apply ``I = J·t + A·(1 − t)``, ``t = exp(−β·d)`` to a uint8 image.

    Args:
        image (np.ndarray): (H, W, C) uint8 clear image ``J·255``.
        depth (np.ndarray): (H, W) depth in metres.
        beta (float): attenuation coefficient in 1/m; 0 returns the image unchanged.
        atmospheric_light (float): ``A`` in [0, 1].
        beta_noise (float): relative amplitude of the fractal modulation of β; the β map is
            ``β·(1 − n + 2·n·plasma)``, so it stays within ``β·[1 − n, 1 + n]``.
        seed (int): seed of the fractal noise.

    Returns:
        np.ndarray: (H, W, C) uint8 foggy image.
    """
    if beta < 0:
        raise ValueError(f'beta must be >= 0, got {beta}')
    if not 0 <= beta_noise <= 1:
        raise ValueError(f'beta_noise must be in [0, 1], got {beta_noise}')
    height, width = image.shape[:2]
    clear = image.astype(np.float64) / 255
    beta_map = np.full((height, width), float(beta))
    if beta_noise > 0:
        noise = plasma_noise(height, width, np.random.default_rng(seed))
        beta_map *= 1 - beta_noise + 2 * beta_noise * noise
    transmission = np.exp(-beta_map * depth)[..., None]
    foggy = clear * transmission + atmospheric_light * (1 - transmission)
    return (np.clip(foggy, 0, 1) * 255 + 0.5).astype(np.uint8)


@TRANSFORMS.register_module()
class AddFog(BaseTransform):
    """Fog ``results['img']`` with :func:`koschmieder_fog` on a depth proxy (:func:`depth_map`).

    Required keys: ``img``. Modified keys: ``img``.

    Args:
        beta (float): attenuation coefficient in 1/m.
        depth (float | str, optional): constant depth in metres (aerial tiles), ``'ramp'``
            (a ramp over ``depth_range`` in a direction drawn from the seed) or ``None`` /
            ``'ground'`` for :func:`ground_plane_depth` (street scenes).
        depth_range (tuple[float, float]): near and far depth of ``'ramp'``.
        atmospheric_light (float): ``A``.
        beta_noise (float): relative fractal modulation of β.
        seed (int, optional): noise seed; ``None`` draws one from numpy's global generator, so the
            fog pattern changes per call (seeded by mmengine's ``randomness`` setting).
    """

    def __init__(self,
                 beta: float,
                 depth: Union[float, str, None] = 60.0,
                 depth_range: Tuple[float, float] = (20.0, 120.0),
                 atmospheric_light: float = 0.85,
                 beta_noise: float = 0.5,
                 seed: Optional[int] = None) -> None:
        if beta < 0:
            raise ValueError(f'AddFog: beta must be >= 0, got {beta}')
        depth = 'ground' if depth is None else depth
        depth_map(depth, 1, 1, depth_range=depth_range)  # raises on a bad spec
        self.beta = beta
        self.depth = depth
        self.depth_range = tuple(depth_range)
        self.atmospheric_light = atmospheric_light
        self.beta_noise = beta_noise
        self.seed = seed

    def transform(self, results: dict) -> dict:
        img = results['img']
        seed = np.random.randint(2**31) if self.seed is None else self.seed
        depth = depth_map(self.depth, *img.shape[:2], seed, self.depth_range)
        results['img'] = koschmieder_fog(img, depth, self.beta, self.atmospheric_light,
                                         self.beta_noise, seed)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(beta={self.beta}, depth={self.depth}, '
                f'depth_range={self.depth_range}, atmospheric_light={self.atmospheric_light}, '
                f'beta_noise={self.beta_noise}, seed={self.seed})')
