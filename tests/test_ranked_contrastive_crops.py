"""Batched crops and augmentations of the object-crop embedders against reference ops."""
import colorsys

import cv2
import numpy as np
import pytest
import torch
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import HorizontalBoxes
from mmengine.structures import InstanceData

from mmproseco.models.embedders.crop_augment import (color_jitter, crop_boxes, grayscale,
                                                     hsv_to_rgb, random_resized_rois, rgb_to_hsv)
from mmproseco.models.embedders.crop_data_preprocessor import ObjectCropDataPreprocessor


def _images(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.uniform(0, 255, (40, 52, 3)).astype(np.float32) for _ in range(2)]


def test_batched_crops_match_slicing_and_cv2_resize():
    imgs = _images()
    batch = torch.stack([torch.from_numpy(i).permute(2, 0, 1) for i in imgs])
    # (image, x1, y1, x2, y2): 32x32 boxes shrink by 2, 8x8 boxes grow by 2 (to 16x16)
    boxes = [(0, 4, 6, 36, 38), (1, 10, 2, 42, 34), (0, 10, 12, 18, 20), (1, 30, 20, 38, 28)]
    crops = crop_boxes(batch, torch.tensor(boxes, dtype=torch.float32), 16)
    for crop, (b, x1, y1, x2, y2) in zip(crops, boxes):
        crop = crop.permute(1, 2, 0).numpy()
        patch = imgs[b][y1:y2, x1:x2]
        if x2 - x1 > 16:  # 2x2 averages: exactly cv2's area interpolation
            ref = cv2.resize(patch, (16, 16), interpolation=cv2.INTER_AREA)
            np.testing.assert_allclose(crop, ref, atol=1e-3)
        else:  # bilinear; the outer ring also reads the pixels around the box, cv2 clamps
            ref = cv2.resize(patch, (16, 16), interpolation=cv2.INTER_LINEAR)
            np.testing.assert_allclose(crop[1:-1, 1:-1], ref[1:-1, 1:-1], atol=1e-3)


def test_random_resized_windows_stay_inside_boxes():
    torch.manual_seed(0)
    rois = torch.tensor([[0, 10., 5., 50., 25.], [1, 0., 0., 8., 30.]]).repeat(200, 1)
    windows = random_resized_rois(rois, scale=(0.5, 1.0), ratio=(0.5, 2.0))
    assert (windows[:, 0] == rois[:, 0]).all()
    assert (windows[:, 1] >= rois[:, 1] - 1e-4).all() and (windows[:, 3] <= rois[:, 3] + 1e-4).all()
    assert (windows[:, 2] >= rois[:, 2] - 1e-4).all() and (windows[:, 4] <= rois[:, 4] + 1e-4).all()
    area = (windows[:, 3] - windows[:, 1]) * (windows[:, 4] - windows[:, 2])
    box_area = (rois[:, 3] - rois[:, 1]) * (rois[:, 4] - rois[:, 2])
    assert (area <= box_area * (1 + 1e-5)).all() and (area > 0.1 * box_area).all()


def test_color_ops_match_colorsys_and_luma():
    rng = np.random.default_rng(1)
    rgb = rng.uniform(0, 1, (3, 3, 4, 4))
    hsv = rgb_to_hsv(torch.from_numpy(rgb)).numpy()
    for k, y, x in [(0, 0, 0), (1, 2, 3), (2, 3, 1)]:
        expected = colorsys.rgb_to_hsv(*rgb[k, :, y, x])
        np.testing.assert_allclose(hsv[k, :, y, x], expected, atol=1e-9)
    np.testing.assert_allclose(hsv_to_rgb(torch.from_numpy(hsv)).numpy(), rgb, atol=1e-9)
    gray = grayscale(torch.from_numpy(rgb)).numpy()[:, 0]
    np.testing.assert_allclose(gray, 0.299 * rgb[:, 0] + 0.587 * rgb[:, 1] + 0.114 * rgb[:, 2])
    # brightness only: every crop is scaled by one factor in [0.6, 1.4]
    crops = torch.full((5, 3, 4, 4), 100.0)
    out = color_jitter(crops, brightness=0.4, contrast=0, saturation=0, hue=0)
    factors = out[:, 0, 0, 0] / 100
    assert torch.allclose(out, factors.view(5, 1, 1, 1) * 100)
    assert ((factors >= 0.6) & (factors <= 1.4)).all() and factors.unique().numel() == 5


def _batch(imgs, boxes_per_image):
    inputs, samples = [], []
    for img, boxes in zip(imgs, boxes_per_image):
        inputs.append(torch.from_numpy(img).permute(2, 0, 1).round().to(torch.uint8))
        sample = DetDataSample()
        sample.gt_instances = InstanceData(
            bboxes=HorizontalBoxes(torch.tensor(boxes, dtype=torch.float32)),
            labels=torch.zeros(len(boxes), dtype=torch.long))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def test_preprocessor_views_without_randomness_equal_the_eval_crop():
    imgs = _images(2)
    imgs[1] = imgs[1][:30, :44]  # images of different sizes are padded together
    data = _batch(imgs, [[[4, 6, 36, 38], [0, 0, 20, 20]], [[10, 2, 30, 22]]])
    identity = dict(rrc_scale=(1, 1), rrc_ratio=(1, 1), flip_prob=0, jitter_prob=0,
                    grayscale_prob=0)
    pre = ObjectCropDataPreprocessor(crop_size=16, augment=identity)
    crops = pre(data, training=False)['inputs']
    views = pre(data, training=True)['inputs']
    assert crops.shape == (3, 3, 16, 16) and views.shape == (2, 3, 3, 16, 16)
    torch.testing.assert_close(views[0], crops)
    torch.testing.assert_close(views[1], crops)
    # BGR input turned to RGB before normalising with RGB mean and std
    mean = torch.tensor([123.675, 116.28, 103.53]).view(3, 1, 1)
    std = torch.tensor([58.395, 57.12, 57.375]).view(3, 1, 1)
    patch = np.round(imgs[0])[6:38, 4:36]
    ref = cv2.resize(patch, (16, 16), interpolation=cv2.INTER_AREA)[..., ::-1].copy()
    torch.testing.assert_close(crops[0] * std + mean, torch.from_numpy(ref).permute(2, 0, 1),
                               atol=1e-3, rtol=0)
    flipped = ObjectCropDataPreprocessor(crop_size=16, augment={**identity, 'flip_prob': 1})
    torch.testing.assert_close(flipped(data, training=True)['inputs'][0], crops.flip(-1))


def test_preprocessor_rejects_bad_config():
    with pytest.raises(ValueError, match='unknown keys'):
        ObjectCropDataPreprocessor(augment=dict(blur=0.5))
    with pytest.raises(ValueError, match='crop_size'):
        ObjectCropDataPreprocessor(crop_size=0)


SHAPES_CONFIGS = [f'configs/ranked_contrastive/{method}_{size}_shapes.py'
                  for method in ('ranked-contrastive', 'supcon', 'rince-superclass', 'softmax')
                  for size in ('r18_1xb16-cpu', 'r50_1xb32-500e')]


def _circular_gap(a, b):
    return min((a - b) % 360.0, (b - a) % 360.0)


@pytest.mark.parametrize('config', SHAPES_CONFIGS)
def test_shapes_views_never_cross_the_smallest_hue_gap(config):
    from mmengine.config import Config

    from tools.dataprep.shapes import CLASS_ATTRIBUTES, HUE_JITTER, HUES
    hues = sorted({HUES[attrs['colour']] for attrs in CLASS_ATTRIBUTES.values()})
    gaps = [_circular_gap(a, b) for i, a in enumerate(hues) for b in hues[i + 1:]]
    smallest = min(gaps)  # red / orange, 28 degrees
    preprocessor = ObjectCropDataPreprocessor(
        **{k: v for k, v in Config.fromfile(config).model.data_preprocessor.items()
           if k != 'type'})
    augment = preprocessor.augment
    shift = augment['jitter']['hue'] * 360.0
    # the rule: an object at the edge of its class's hue spread, shifted the most, stays
    # nearer its class hue than any other (below half the smallest gap, with margin)
    assert shift < smallest / 2 - HUE_JITTER < smallest / 2
    assert augment['grayscale_prob'] == 0  # a gray view erases the hue cue altogether
    # and in pixels, with the clamping of the other jitters: object colours at the edges of
    # every class's hue spread (saturation and value at both ends of the data's ranges),
    # jittered by the configured ops, keep a hue nearest their own class hue
    torch.manual_seed(0)
    draws = 500
    edges = [(h, (h + side * HUE_JITTER, sat, val)) for h in hues for side in (-1, 1)
             for sat in (0.75, 1.0) for val in (0.65, 1.0)]
    rgb = torch.tensor([colorsys.hsv_to_rgb((e % 360) / 360, sat, val)
                        for _, (e, sat, val) in edges])
    crops = (rgb * 255).view(-1, 3, 1, 1).repeat(draws, 1, 2, 2)
    jittered = color_jitter(crops, **augment['jitter'])
    observed = rgb_to_hsv(jittered / 255.0)[:, 0, 0, 0] * 360.0
    own = torch.tensor([h for h, _ in edges]).repeat(draws)
    distances = torch.stack([torch.minimum((observed - h) % 360, (h - observed) % 360)
                             for h in hues], dim=1)
    nearest = torch.tensor(hues)[distances.argmin(dim=1)]
    assert torch.equal(nearest, own.to(nearest.dtype))
