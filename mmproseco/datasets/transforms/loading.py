"""Image loading that reports missing, corrupt or mis-sized files and yields 3-channel BGR."""
import logging

import cv2
import mmcv
import numpy as np
from mmcv.transforms import LoadImageFromFile
from mmdet.registry import TRANSFORMS
from mmengine.fileio import get
from mmengine.logging import print_log

from ..data_errors import REBUILD_HINT, DataError

_TO_BGR = {1: cv2.COLOR_GRAY2BGR, 4: cv2.COLOR_BGRA2BGR}
SIZE_MISMATCH_ACTIONS = ('error', 'rescale')


def to_three_channel_bgr(img):
    """Convert a decoded gray ``(H, W)``/``(H, W, 1)`` or BGRA ``(H, W, 4)`` image to BGR.

    Alpha is dropped, not composited: detection boxes refer to the colour pixels.

    Returns:
        np.ndarray: ``(H, W, 3)`` image of the same dtype.
    """
    channels = 1 if img.ndim == 2 else img.shape[2]
    if channels == 3:
        return img
    if channels not in _TO_BGR:
        raise ValueError(f'cannot convert an image with {channels} channels to BGR')
    return cv2.cvtColor(np.ascontiguousarray(img), _TO_BGR[channels])


@TRANSFORMS.register_module()
class LoadImageChecked(LoadImageFromFile):
    """``LoadImageFromFile`` that raises :class:`DataError` on a missing or corrupt image.

    Grayscale and RGBA files are returned as 3-channel BGR whatever ``color_type`` says, so
    every model input has three channels.

    When the data info gives the image's ``height`` and ``width`` (from the annotation file,
    in whose pixels the boxes are), the decoded image must have that size: a mismatch raises
    :class:`DataError`, or with ``size_mismatch='rescale'`` scales the boxes (``instances``
    and ``proposals``) to the decoded image; each rescaled image is logged once, with the
    count so far (per dataloader worker), kept as ``num_rescaled_images``.

    Args:
        size_mismatch (str): ``'error'`` or ``'rescale'``. Defaults to ``'error'``.
        **kwargs: Arguments of :class:`mmcv.transforms.LoadImageFromFile`
            (``ignore_empty=True`` still returns None for a missing or unreadable file).

    Required keys: ``img_path``. Optional keys: ``height``, ``width``, ``instances``,
    ``proposals`` (modified when rescaled). Added keys: ``img``, ``img_shape``,
    ``ori_shape``.
    """

    def __init__(self, *args, size_mismatch='error', **kwargs):
        super().__init__(*args, **kwargs)
        if size_mismatch not in SIZE_MISMATCH_ACTIONS:
            raise ValueError(f'LoadImageChecked: size_mismatch must be one of '
                             f'{SIZE_MISMATCH_ACTIONS}, got {size_mismatch!r}')
        self.size_mismatch = size_mismatch
        self._rescaled_paths = set()

    @property
    def num_rescaled_images(self):
        return len(self._rescaled_paths)

    def transform(self, results):
        filename = results['img_path']
        try:
            img_bytes = get(filename, backend_args=self.backend_args)
        except FileNotFoundError:
            if self.ignore_empty:
                return None
            raise DataError(filename, 'image file not found',
                            f'check data_root and data_prefix in the config, or {REBUILD_HINT}'
                            ) from None
        try:
            img = mmcv.imfrombytes(img_bytes, flag=self.color_type,
                                   backend=self.imdecode_backend)
        except Exception:  # each decoding backend raises its own error type
            img = None
        if img is None or img.size == 0:
            if self.ignore_empty:
                return None
            raise DataError(filename, f'cannot be decoded as an image ({len(img_bytes)} bytes; '
                            'corrupt, truncated or not an image)',
                            f'replace the file with a valid image, or {REBUILD_HINT}')
        img = to_three_channel_bgr(img)
        self._check_size(results, img.shape[:2])
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results

    def _check_size(self, results, decoded_shape):
        """Compare the decoded ``(h, w)`` with the listed size; rescale the boxes or raise."""
        listed = results.get('height'), results.get('width')
        if None in listed or tuple(listed) == tuple(decoded_shape):
            return
        (height, width), (listed_h, listed_w) = decoded_shape, listed
        mismatch = (f'is {width}x{height} pixels but its annotation lists it as '
                    f'{listed_w}x{listed_h}')
        if self.size_mismatch == 'error':
            raise DataError(results['img_path'], mismatch,
                            'correct its "width" and "height" in the annotation file (the boxes '
                            'must be in its pixels), or set size_mismatch=\'rescale\' in '
                            'LoadImageChecked to scale its boxes to the image')
        scale = np.array([width / listed_w, height / listed_h] * 2, dtype=np.float32)
        for instance in results.get('instances', []):
            instance['bbox'] = (np.asarray(instance['bbox'], np.float32) * scale).tolist()
        if 'proposals' in results:
            results['proposals'] = np.asarray(results['proposals'], np.float32) * scale
        results['height'], results['width'] = height, width
        if results['img_path'] not in self._rescaled_paths:
            self._rescaled_paths.add(results['img_path'])
            print_log(f'{results["img_path"]}: {mismatch}; scaled its boxes by '
                      f'({scale[0]:.4g}, {scale[1]:.4g}) ({self.num_rescaled_images} images '
                      'rescaled so far)', logger='current', level=logging.WARNING)
