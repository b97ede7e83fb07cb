"""UnlabeledDetDataset, SampleProposals, the photometric transforms and the two-view pipeline."""
import json
import os.path as osp
import random

import cv2
import numpy as np
import pytest
import torch
from mmdet.registry import DATASETS, MODELS, TRANSFORMS
from mmdet.utils import register_all_modules
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

import mmproseco  # noqa: F401  (registers the modules)
from mmproseco.datasets.unlabeled import load_proposal_file, save_proposal_file
from mmproseco.pipeline.selective_search import main as selective_search

register_all_modules()  # default scope 'mmdet', as in our configs
REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
HEIGHT, WIDTH = 100, 160


def distinct_boxes(count, height=HEIGHT, width=WIDTH):
    """``count`` distinct valid xyxy boxes inside a ``width`` x ``height`` image."""
    rng = np.random.default_rng(count)
    xy = rng.integers(0, [width - 20, height - 20], size=(count, 2))
    wh = 5 + np.arange(count)[:, None] % 15 + rng.integers(0, 3, size=(count, 2))
    return np.concatenate([xy, xy + wh], axis=1).astype(np.float32)


def write_folder(tmp_path, names=('a.png', 'b.png', 'c.png')):
    img_dir = tmp_path / 'images'
    img_dir.mkdir()
    rng = np.random.default_rng(0)
    for name in names:
        cv2.imwrite(str(img_dir / name), rng.integers(0, 256, (HEIGHT, WIDTH, 3), np.uint8))
    return img_dir


# ---------------------------------------------------------------- SampleProposals
def test_sample_proposals_draws_k_distinct_proposals_uniformly():
    proposals = distinct_boxes(50)
    sample = TRANSFORMS.build(dict(type='SampleProposals', num_proposals=30))
    np.random.seed(0)
    counts = np.zeros(50)
    draws = set()
    for _ in range(200):
        results = sample(dict(proposals=proposals.copy(), img_path='x.png'))
        boxes = results['gt_bboxes'].tensor.numpy()
        assert 'proposals' not in results and boxes.shape == (30, 4)
        rows = [int(np.flatnonzero((proposals == box).all(axis=1))[0]) for box in boxes]
        assert len(set(rows)) == 30  # distinct proposals, each one of the inputs
        counts[rows] += 1
        draws.add(tuple(sorted(rows)))
        assert results['gt_bboxes_labels'].dtype == np.int64
        assert not results['gt_bboxes_labels'].any() and not results['gt_ignore_flags'].any()
    assert len(draws) == 200  # a new draw at every call
    # Each proposal is drawn with probability 30/50: 120 of 200 on average.
    assert counts.min() > 85 and counts.max() < 155


def test_sample_proposals_keeps_all_when_fewer_and_validates_k():
    proposals = distinct_boxes(5)
    results = TRANSFORMS.build(dict(type='SampleProposals', num_proposals=30))(
        dict(proposals=proposals))
    assert np.array_equal(results['gt_bboxes'].tensor.numpy(), proposals)
    for bad in (0, -2, 2.5, True):
        with pytest.raises(ValueError, match='num_proposals'):
            TRANSFORMS.build(dict(type='SampleProposals', num_proposals=bad))
    with pytest.raises(KeyError, match='UnlabeledDetDataset'):
        TRANSFORMS.build(dict(type='SampleProposals'))(dict(img_path='x.png'))


# ---------------------------------------------------------------- photometric transforms
def test_color_jitter_brightness_is_one_factor_and_saturation_keeps_gray():
    rng = np.random.default_rng(1)
    img = rng.integers(0, 150, (32, 32, 3), np.uint8)  # * 1.4 stays below 255: no clipping
    identity = TRANSFORMS.build(dict(type='ColorJitter', brightness=0, contrast=0,
                                     saturation=0, hue=0))
    assert np.array_equal(identity(dict(img=img.copy()))['img'], img)
    jitter = TRANSFORMS.build(dict(type='ColorJitter', brightness=0.4, contrast=0,
                                   saturation=0, hue=0))
    np.random.seed(0)
    factors = []
    for _ in range(5):
        out = jitter(dict(img=img.copy()))['img'].astype(np.float64)
        factor = (out * img).sum() / (img.astype(np.float64)**2).sum()
        assert np.abs(out - img * factor).max() <= 1.0  # one multiplicative factor
        factors.append(factor)
    assert 0.6 <= min(factors) and max(factors) <= 1.4 and np.ptp(factors) > 0.05
    gray = np.repeat(rng.integers(0, 256, (32, 32, 1), np.uint8), 3, axis=2)
    saturation = TRANSFORMS.build(dict(type='ColorJitter', brightness=0, contrast=0,
                                       saturation=0.9, hue=0))
    assert np.array_equal(saturation(dict(img=gray.copy()))['img'], gray)
    for field, value in (('brightness', -0.1), ('saturation', -1), ('hue', 0.6)):
        with pytest.raises(ValueError, match=field):
            TRANSFORMS.build(dict(type='ColorJitter', **{field: value}))


def test_random_gaussian_blur_uses_a_sigma_from_the_range():
    img = np.random.default_rng(2).integers(0, 256, (40, 40, 3), np.uint8)
    blur = TRANSFORMS.build(dict(type='RandomGaussianBlur', kernel_size=23,
                                 sigma_range=(0.1, 2.0)))
    np.random.seed(3)
    out = blur(dict(img=img.copy()))['img']
    np.random.seed(3)
    sigma = np.random.uniform(0.1, 2.0)
    assert np.array_equal(out, cv2.GaussianBlur(img, (23, 23), sigma))
    assert out.std() < img.std()
    with pytest.raises(ValueError, match='kernel_size'):
        TRANSFORMS.build(dict(type='RandomGaussianBlur', kernel_size=4))
    with pytest.raises(ValueError, match='sigma_range'):
        TRANSFORMS.build(dict(type='RandomGaussianBlur', sigma_range=(2.0, 0.1)))


# ---------------------------------------------------------------- UnlabeledDetDataset
def test_dataset_over_a_folder_skips_images_without_proposals(tmp_path):
    img_dir = write_folder(tmp_path)
    boxes = {'a.png': distinct_boxes(4), 'b.png': distinct_boxes(7)}
    save_proposal_file(str(tmp_path / 'p.npz'), list(boxes) + ['gone.png'],
                       [(HEIGHT, WIDTH)] * 3, list(boxes.values()) + [distinct_boxes(3)])
    dataset = DATASETS.build(dict(type='UnlabeledDetDataset', ann_file='',
                                  data_prefix=dict(img=str(img_dir)),
                                  proposal_file=str(tmp_path / 'p.npz'), pipeline=[]))
    assert len(dataset) == 2  # c.png has no proposals
    for index, name in enumerate(('a.png', 'b.png')):
        info = dataset.get_data_info(index)
        assert info['img_path'] == osp.join(str(img_dir), name) and info['img_id'] == index
        assert (info['height'], info['width']) == (HEIGHT, WIDTH)
        assert info['proposals'].dtype == np.float32
        assert np.array_equal(info['proposals'], boxes[name])


def test_dataset_over_a_coco_json_with_tool_proposals(tmp_path):
    img_dir = write_folder(tmp_path)
    ann = tmp_path / 'unlabeled.json'
    images = [dict(id=7 + i, file_name=n, height=HEIGHT, width=WIDTH, annotations=[])
              for i, n in enumerate(('c.png', 'a.png'))]
    ann.write_text(json.dumps(dict(images=images, annotations=[], categories=[])))
    selective_search(['--ann', str(ann), '--img-dir', str(img_dir), '--out',
                      str(tmp_path / 'ss'), '--workers', '1', '--no-progress'])
    dataset = DATASETS.build(dict(type='UnlabeledDetDataset', data_root=str(tmp_path),
                                  ann_file='unlabeled.json', data_prefix=dict(img='images'),
                                  proposal_file='ss/proposals.npz', pipeline=[]))
    assert [dataset.get_data_info(i)['img_id'] for i in range(len(dataset))] == [7, 8]
    computed = load_proposal_file(str(tmp_path / 'ss' / 'proposals.npz'))
    assert np.array_equal(dataset.get_data_info(1)['proposals'], computed['a.png'][0])

    images[0]['height'] = 50  # the json and the proposals disagree on the image size
    ann.write_text(json.dumps(dict(images=images)))
    with pytest.raises(ValueError, match='recompute the proposals'):
        DATASETS.build(dict(type='UnlabeledDetDataset', data_root=str(tmp_path),
                            ann_file='unlabeled.json', data_prefix=dict(img='images'),
                            proposal_file='ss/proposals.npz', pipeline=[]))


def test_dataset_errors_name_the_file_and_the_fix(tmp_path):
    img_dir = write_folder(tmp_path)
    with pytest.raises(FileNotFoundError, match=r'missing\.npz.*tools/selective_search\.py'):
        DATASETS.build(dict(type='UnlabeledDetDataset', data_prefix=dict(img=str(img_dir)),
                            proposal_file=str(tmp_path / 'missing.npz')))
    with pytest.raises(FileNotFoundError, match=r'nowhere.*data_prefix\.img'):
        DATASETS.build(dict(type='UnlabeledDetDataset', data_prefix=dict(img='nowhere'),
                            proposal_file=str(tmp_path / 'missing.npz')))
    with pytest.raises(ValueError, match='proposal_file'):
        DATASETS.build(dict(type='UnlabeledDetDataset', data_prefix=dict(img=str(img_dir))))


# ---------------------------------------------------------------- two views
@pytest.mark.parametrize('config', ['shapes_unlabeled.py', 'deepforest_unlabeled.py'])
def test_two_views_share_boxes_and_geometry_and_differ_in_pixels(tmp_path, config):
    img_dir = write_folder(tmp_path, names=('a.png', ))
    original = cv2.imread(str(img_dir / 'a.png'))
    proposals = distinct_boxes(50)
    save_proposal_file(str(tmp_path / 'p.npz'), ['a.png'], [(HEIGHT, WIDTH)], [proposals])
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', '_base_', 'datasets', config))
    dataset_cfg = cfg.train_dataloader.dataset
    dataset_cfg.update(ann_file='', data_prefix=dict(img=str(img_dir)),
                       proposal_file=str(tmp_path / 'p.npz'))
    dataset = DATASETS.build(dataset_cfg)
    scale = min(cfg.image_size / WIDTH, cfg.image_size / HEIGHT)
    size = (round(WIDTH * scale), round(HEIGHT * scale))
    np.random.seed(0)
    random.seed(0)
    samples = [dataset[0] for _ in range(8)]
    changed = 0
    for sample in samples:
        teacher, student = (sample['data_samples'][k] for k in ('teacher', 'student'))
        assert teacher.img_shape == student.img_shape == size[::-1]
        assert teacher.flip == student.flip
        boxes = teacher.gt_instances.bboxes.tensor
        assert boxes.shape == (cfg.num_proposals, 4)
        assert torch.equal(boxes, student.gt_instances.bboxes.tensor)
        # Boxes = the flipped, rescaled proposals, worked out here independently.
        expected = proposals.copy()
        if teacher.flip:
            expected[:, [0, 2]] = WIDTH - proposals[:, [2, 0]]
        expected = torch.from_numpy(expected * scale)
        assert all(torch.isclose(expected, box, atol=1e-4).all(1).any() for box in boxes)
        # The teacher view is the geometric transform only; the student adds photometry.
        geometric = cv2.resize(original[:, ::-1] if teacher.flip else original, size)
        teacher_img = sample['inputs']['teacher'].permute(1, 2, 0).numpy()
        assert np.array_equal(teacher_img, geometric)
        changed += not torch.equal(sample['inputs']['teacher'], sample['inputs']['student'])
    assert changed >= 5  # the student view is unchanged only with p = 0.2 * 0.8 * 0.5

    preprocessor = MODELS.build(dict(
        type='MultiBranchDataPreprocessor',
        data_preprocessor=dict(type='DetDataPreprocessor', mean=[123.675, 116.28, 103.53],
                               std=[58.395, 57.12, 57.375], bgr_to_rgb=True)))
    batch = preprocessor(pseudo_collate(samples[:2]), training=True)
    assert set(batch['inputs']) == {'teacher', 'student'}
    assert batch['inputs']['teacher'].shape == batch['inputs']['student'].shape == (
        2, 3, size[1], size[0])
    for teacher, student in zip(batch['data_samples']['teacher'],
                                batch['data_samples']['student']):
        assert teacher.batch_input_shape == student.batch_input_shape
        # DetDataPreprocessor(boxtype2tensor=True) has turned the boxes into plain tensors.
        assert torch.equal(teacher.gt_instances.bboxes, student.gt_instances.bboxes)
