"""Data preprocessor that turns a batch of images and boxes into object crops."""
from typing import Optional, Sequence

import torch
from mmdet.registry import MODELS
from mmdet.structures.bbox import bbox2roi, get_box_tensor
from mmengine.model import BaseDataPreprocessor
from mmengine.model.utils import stack_batch

from .crop_augment import augmented_view, crop_boxes, normalize

#: The original's two-crop augmentation (SupCon's list without blur, cutout and Sobel).
DEFAULT_AUGMENT = dict(
    rrc_scale=(0.9, 1.0),
    rrc_ratio=(3 / 4, 4 / 3),
    flip_prob=0.5,
    jitter_prob=0.25,
    jitter=dict(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1),
    grayscale_prob=0.2)


@MODELS.register_module()
class ObjectCropDataPreprocessor(BaseDataPreprocessor):
    """Crop every box of a batch with one RoIAlign, then make augmented views on tensors.

    Inputs are the per-image ``uint8`` tensors and :class:`DetDataSample` s of mmdet's
    ``PackDetInputs``; boxes are ``gt_instances.bboxes`` (ground truth or detections). Images of
    different sizes are padded to a common size (boxes never reach the padding).

    Args:
        crop_size (int): Side of the square crops (no aspect ratio kept, as in the original).
        mean, std (Sequence[float]): Per-channel normalisation in RGB, 0-255 scale. Default
            ImageNet's.
        bgr_to_rgb (bool): Images come from OpenCV in BGR. Default True.
        num_views (int): Views per crop in training (2 for contrastive learning).
        augment (dict, optional): Keys of :data:`DEFAULT_AUGMENT` to override; set a
            probability to 0 to switch a part off. ``None`` keeps the defaults.
        sampling_ratio (int): RoIAlign samples per bin and axis; 0 = adaptive.

    Returns of :meth:`forward`: ``dict(inputs, data_samples)``; ``inputs`` is
    ``(num_views, K, 3, S, S)`` in training and ``(K, 3, S, S)`` (no augmentation) otherwise,
    with the crops of image 0 first, then image 1, ...
    """

    def __init__(self,
                 crop_size: int = 64,
                 mean: Sequence[float] = (123.675, 116.28, 103.53),
                 std: Sequence[float] = (58.395, 57.12, 57.375),
                 bgr_to_rgb: bool = True,
                 num_views: int = 2,
                 augment: Optional[dict] = None,
                 sampling_ratio: int = 0) -> None:
        super().__init__()
        if crop_size < 1:
            raise ValueError(f'crop_size must be >= 1, got {crop_size}')
        if num_views < 1:
            raise ValueError(f'num_views must be >= 1, got {num_views}')
        unknown = sorted(set(augment or {}) - set(DEFAULT_AUGMENT))
        if unknown:
            raise ValueError(f'augment has unknown keys {unknown}; '
                             f'allowed: {sorted(DEFAULT_AUGMENT)}')
        self.crop_size = crop_size
        self.bgr_to_rgb = bgr_to_rgb
        self.num_views = num_views
        self.sampling_ratio = sampling_ratio
        self.augment = {**DEFAULT_AUGMENT, **(augment or {})}
        self.register_buffer('mean', torch.tensor(mean, dtype=torch.float32), False)
        self.register_buffer('std', torch.tensor(std, dtype=torch.float32), False)

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        data_samples = data['data_samples']
        images = stack_batch([img.float() for img in data['inputs']])
        if self.bgr_to_rgb:
            images = images.flip(1)
        rois = bbox2roi([get_box_tensor(ds.gt_instances.bboxes).float() for ds in data_samples])
        if rois.size(0) == 0:
            raise ValueError('a batch has no boxes to crop; ObjectCropDataset drops images '
                             'without objects, use it to wrap the detection dataset')
        if training:
            views = [augmented_view(images, rois, self.crop_size,
                                    sampling_ratio=self.sampling_ratio, **self.augment)
                     for _ in range(self.num_views)]
            crops = torch.stack([normalize(v, self.mean, self.std) for v in views])
        else:
            crops = normalize(crop_boxes(images, rois, self.crop_size, self.sampling_ratio),
                              self.mean, self.std)
        return dict(inputs=crops, data_samples=data_samples)
