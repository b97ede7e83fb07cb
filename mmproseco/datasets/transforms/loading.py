"""Image loading that reports missing or corrupt files and always yields 3-channel BGR."""
import cv2
import mmcv
import numpy as np
from mmcv.transforms import LoadImageFromFile
from mmdet.registry import TRANSFORMS
from mmengine.fileio import get

from ..data_errors import REBUILD_HINT, DataError

_TO_BGR = {1: cv2.COLOR_GRAY2BGR, 4: cv2.COLOR_BGRA2BGR}


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
    every model input has three channels. Arguments are those of
    :class:`mmcv.transforms.LoadImageFromFile` (``ignore_empty=True`` still returns None
    for a missing or unreadable file instead of raising).

    Required keys: ``img_path``. Added keys: ``img``, ``img_shape``, ``ori_shape``.
    """

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
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results
