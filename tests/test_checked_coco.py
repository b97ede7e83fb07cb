"""CheckedCocoDataset, LoadImageChecked and the dataset base configs, on tiny real files."""
import copy
import json
import os.path as osp
import pickle
import subprocess
import sys
import uuid

import cv2
import numpy as np
import pytest
import torch
from mmdet.registry import DATASETS, METRICS, TRANSFORMS
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from PIL import Image

import mmproseco  # noqa: F401  (registers the classes)
from mmproseco.datasets.checked_coco import CheckedCocoDataset, clip_xywh_box
from mmproseco.datasets.data_errors import DataError

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
METAINFO = dict(classes=('a', 'b'))
SIZE = 40  # width and height of the toy images


def write_toy_set(folder, annotations, n_images=2):
    """A COCO file with ``n_images`` images of SIZE x SIZE, and the PNGs it points to."""
    (folder / 'images').mkdir(parents=True, exist_ok=True)
    images = []
    for i in range(n_images):
        name = f'im{i}.png'
        cv2.imwrite(str(folder / 'images' / name), np.full((SIZE, SIZE, 3), 60 * i, np.uint8))
        images.append(dict(id=i + 1, file_name=name, width=SIZE, height=SIZE))
    content = dict(images=images, annotations=annotations,
                   categories=[dict(id=1, name='a'), dict(id=2, name='b')])
    ann_file = folder / 'ann.json'
    ann_file.write_text(json.dumps(content))
    return ann_file


def ann(ann_id, bbox, category_id=1, image_id=1):
    return dict(id=ann_id, image_id=image_id, category_id=category_id, bbox=bbox,
                area=bbox[2] * bbox[3], iscrowd=0)


def build(ann_file, **kwargs):
    return CheckedCocoDataset(ann_file=str(ann_file), metainfo=METAINFO,
                              data_prefix=dict(img=str(osp.dirname(ann_file)) + '/images/'),
                              pipeline=[], **kwargs)


def error_of(ann_file, **kwargs):
    with pytest.raises(DataError) as info:
        build(ann_file, **kwargs)
    return info.value


def test_data_error_is_a_value_error_that_pickles():
    err = DataError('x/y.json', 'is broken', 'repair it')
    assert isinstance(err, ValueError)
    assert str(err) == 'x/y.json: is broken\nFix: repair it'
    assert str(pickle.loads(pickle.dumps(err))) == str(err)


def test_missing_annotation_file(tmp_path):
    err = error_of(tmp_path / 'nope.json')
    assert err.path == str(tmp_path / 'nope.json') and 'not found' in str(err)
    assert 'prepare_data.py' in err.fix


@pytest.mark.parametrize('text, problem', [
    ('{"images": [', 'not a JSON file'),
    ('[1, 2]', 'JSON is a list'),
    ('{"images": [], "annotations": []}', 'no list under categories'),
])
def test_not_a_coco_file(tmp_path, text, problem):
    ann_file = tmp_path / 'ann.json'
    ann_file.write_text(text)
    err = error_of(ann_file)
    assert err.path == str(ann_file) and problem in err.problem and err.fix


def test_unknown_category_and_image_ids(tmp_path):
    err = error_of(write_toy_set(tmp_path, [ann(1, [1, 1, 5, 5]), ann(2, [1, 1, 5, 5], 7)]))
    assert err.path.endswith('ann.json') and 'category ids 7 ' in str(err)
    err = error_of(write_toy_set(tmp_path, [ann(1, [1, 1, 5, 5], image_id=9)]))
    assert 'image ids 9 ' in str(err)


def test_duplicate_ann_ids_and_malformed_bbox(tmp_path):
    assert 'used twice' in str(error_of(write_toy_set(tmp_path, [ann(1, [1, 1, 5, 5])] * 2)))
    bad = ann(1, [1, 1, 5, 5])
    bad['bbox'] = [1, 2, 3]
    assert 'not [x, y, width, height]' in str(error_of(write_toy_set(tmp_path, [bad])))


def test_metainfo_classes_must_be_categories(tmp_path):
    ann_file = write_toy_set(tmp_path, [ann(1, [1, 1, 5, 5])])
    with pytest.raises(DataError, match=r"classes c of the dataset metainfo") as info:
        CheckedCocoDataset(ann_file=str(ann_file), metainfo=dict(classes=('a', 'c')),
                           data_prefix=dict(img=str(tmp_path / 'images') + '/'), pipeline=[])
    assert info.value.path == str(ann_file)


def test_missing_image_files(tmp_path):
    ann_file = write_toy_set(tmp_path, [ann(1, [1, 1, 5, 5])], n_images=3)
    (tmp_path / 'images' / 'im2.png').unlink()
    err = error_of(ann_file)
    assert err.path == str(ann_file)
    assert '1 of its 3 images are missing' in err.problem
    assert str(tmp_path / 'images' / 'im2.png') in err.problem


def test_clip_xywh_box_by_hand():
    assert clip_xywh_box([-5, 10, 20, 10], 40, 40) == [0, 10, 15, 10]
    assert clip_xywh_box([30, 35, 20, 20], 40, 40) == [30, 35, 10, 5]
    assert clip_xywh_box([10, 10, 0, 5], 40, 40) is None  # zero area
    assert clip_xywh_box([45, 10, 5, 5], 40, 40) is None  # right of the image
    assert clip_xywh_box([39.5, 10, 5, 5], 40, 40) is None  # 0.5 px left inside


def test_bad_boxes_dropped_or_clipped_and_counted(tmp_path):
    annotations = [
        ann(1, [2, 3, 10, 12]),  # fine
        ann(2, [5, 5, 0, 8]),  # zero width: dropped
        ann(3, [50, 50, 5, 5]),  # outside: dropped
        ann(4, [-4, 30, 10, 20], 2),  # clipped to [0, 30, 6, 10]
        ann(5, [35, -2, 10, 10], 2, image_id=2),  # clipped to [35, 0, 5, 8]
    ]
    log_file = tmp_path / 'log.txt'
    MMLogger.get_instance(f'checked-coco-{uuid.uuid4()}', log_file=str(log_file))
    dataset = build(write_toy_set(tmp_path, annotations))
    assert (dataset.num_dropped_boxes, dataset.num_clipped_boxes) == (2, 2)
    first, second = dataset.get_data_info(0), dataset.get_data_info(1)
    assert [i['bbox'] for i in first['instances']] == [[2, 3, 12, 15], [0, 30, 6, 40]]
    assert [i['bbox_label'] for i in first['instances']] == [0, 1]
    assert [i['bbox'] for i in second['instances']] == [[35, 0, 40, 8]]
    log = log_file.read_text()
    assert 'clipped 2 boxes' in log and 'dropped 2 boxes' in log and 'ann.json' in log


def test_images_without_boxes_kept_unless_filtered(tmp_path):
    ann_file = write_toy_set(tmp_path, [ann(1, [1, 1, 5, 5])], n_images=3)
    assert len(build(ann_file)) == 3
    assert len(build(ann_file, filter_cfg=dict(filter_empty_gt=True))) == 1
    unlabeled = write_toy_set(tmp_path / 'u', [], n_images=3)
    assert len(build(unlabeled)) == 3


# ----------------------------------------------------------------------- LoadImageChecked
def load(path, **kwargs):
    transform = TRANSFORMS.build(dict(type='LoadImageChecked', **kwargs))
    return transform(dict(img_path=str(path)))


def test_missing_image_raises_data_error(tmp_path):
    with pytest.raises(DataError) as info:
        load(tmp_path / 'gone.png')
    assert info.value.path == str(tmp_path / 'gone.png') and 'not found' in str(info.value)
    assert load(tmp_path / 'gone.png', ignore_empty=True) is None


@pytest.mark.parametrize('backend', ['cv2', 'pillow'])
@pytest.mark.parametrize('damage', ['truncated', 'text'])
def test_corrupt_image_raises_data_error(tmp_path, backend, damage):
    path = tmp_path / 'broken.png'
    pixels = np.random.default_rng(0).integers(0, 255, (40, 40, 3), dtype=np.uint8)
    _, png = cv2.imencode('.png', pixels)
    path.write_bytes(png.tobytes()[:len(png) // 2] if damage == 'truncated' else b'a text')
    with pytest.raises(DataError, match='cannot be decoded') as info:
        load(path, imdecode_backend=backend)
    assert info.value.path == str(path)
    assert load(path, imdecode_backend=backend, ignore_empty=True) is None


@pytest.mark.parametrize('backend', ['cv2', 'pillow'])
@pytest.mark.parametrize('color_type', ['color', 'unchanged'])
def test_gray_and_rgba_become_three_channel_bgr(tmp_path, backend, color_type):
    gray = np.arange(12 * 10, dtype=np.uint8).reshape(12, 10)
    Image.fromarray(gray, mode='L').save(tmp_path / 'gray.png')
    rgba = np.zeros((12, 10, 4), np.uint8)
    rgba[...] = (10, 20, 30, 0)  # fully transparent: the colour must survive, alpha dropped
    rgba[0, 0] = (200, 100, 50, 255)
    Image.fromarray(rgba, mode='RGBA').save(tmp_path / 'rgba.png')

    results = load(tmp_path / 'gray.png', imdecode_backend=backend, color_type=color_type)
    assert results['img'].shape == (12, 10, 3) and results['ori_shape'] == (12, 10)
    for channel in range(3):
        np.testing.assert_array_equal(results['img'][..., channel], gray)

    img = load(tmp_path / 'rgba.png', imdecode_backend=backend, color_type=color_type)['img']
    assert img.shape == (12, 10, 3) and img.dtype == np.uint8
    assert img[5, 5].tolist() == [30, 20, 10] and img[0, 0].tolist() == [50, 100, 200]


def test_to_float32(tmp_path):
    cv2.imwrite(str(tmp_path / 'x.png'), np.full((4, 6, 3), 7, np.uint8))
    img = load(tmp_path / 'x.png', to_float32=True)['img']
    assert img.dtype == np.float32 and img.shape == (4, 6, 3) and img[0, 0, 0] == 7


# ------------------------------------------------------------------- dataset base configs
@pytest.fixture(scope='module')
def tiny_shapes(tmp_path_factory):
    out = tmp_path_factory.mktemp('data')
    result = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'prepare_data.py'), '--out', str(out),
         '--datasets', 'shapes', '--shapes-sizes', '6', '4', '4'], capture_output=True,
        text=True)
    assert result.returncode == 0, result.stderr
    return str(out / 'shapes') + '/'


def config_dataset(cfg_name, data_root, loader):
    init_default_scope('mmdet')  # as the experiment configs do with default_scope='mmdet'
    cfg = Config.fromfile(osp.join(ROOT, 'configs', '_base_', 'datasets', cfg_name))
    assert cfg.backend_args is None and cfg[loader].persistent_workers is False
    dataset_cfg = copy.deepcopy(cfg[loader].dataset)
    dataset_cfg.data_root = data_root
    return cfg, DATASETS.build(dataset_cfg)


@pytest.mark.parametrize('loader', ['train_dataloader', 'val_dataloader', 'test_dataloader'])
def test_shapes_config_pipelines(tiny_shapes, loader):
    cfg, dataset = config_dataset('shapes_detection.py', tiny_shapes, loader)
    assert cfg.dataset_type == 'CheckedCocoDataset'
    assert len(dataset) == {'train_dataloader': 6}.get(loader, 4)
    sample = dataset[0]
    assert tuple(sample['inputs'].shape) == (3, 128, 128)
    meta = sample['data_samples'].metainfo
    assert {'img_path', 'ori_shape', 'img_shape', 'scale_factor'} <= set(meta)
    if loader == 'train_dataloader':
        assert {'flip', 'flip_direction'} <= set(meta)
        assert len(sample['data_samples'].gt_instances) > 0
    with open(osp.join(tiny_shapes, 'class_similarity.json')) as f:
        assert list(cfg.metainfo.classes) == json.load(f)['classes']


def test_shapes_evaluator_scores_ground_truth_as_perfect(tiny_shapes):
    cfg, dataset = config_dataset('shapes_detection.py', tiny_shapes, 'val_dataloader')
    evaluator_cfg = copy.deepcopy(cfg.val_evaluator)
    evaluator_cfg.ann_file = osp.join(tiny_shapes, cfg.val_ann_file)
    metric = METRICS.build(evaluator_cfg)
    metric.dataset_meta = dataset.metainfo
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        gt = torch.tensor([i['bbox'] for i in info['instances']], dtype=torch.float32)
        labels = torch.tensor([i['bbox_label'] for i in info['instances']])
        pred = dict(img_id=info['img_id'], ori_shape=(128, 128), pred_instances=dict(
            bboxes=gt, scores=torch.ones(len(gt)), labels=labels))
        metric.process({}, [pred])
    assert metric.evaluate(len(dataset))['coco/bbox_mAP'] == pytest.approx(1.0)


def test_deepforest_config_pipeline(tmp_path):
    from tools.dataprep import deepforest as source
    try:
        wheel = source.fetch_wheel(source.default_cache_dir())
    except source.PrepareDataError as err:
        pytest.skip(f'deepforest wheel unavailable: {err}')
    subprocess.run([sys.executable, osp.join(ROOT, 'tools', 'prepare_data.py'), '--out',
                    str(tmp_path), '--datasets', 'deepforest', '--deepforest-wheel', wheel],
                   check=True, capture_output=True)
    _, dataset = config_dataset('deepforest_detection.py', str(tmp_path / 'deepforest') + '/',
                                'train_dataloader')
    assert len(dataset) == 22
    sample = dataset[0]
    assert tuple(sample['inputs'].shape) == (3, 400, 400)
    assert sample['data_samples'].metainfo['flip_direction'] in (None, 'horizontal', 'vertical')
