"""End to end: the CPU config trains through the train entry point and AdaptedDetector evaluates
through the test entry point, on a tiny fixture with the DeepForest layout."""
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from mmdet.registry import DATASETS
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmproseco  # noqa: F401
from mmproseco.pipeline.scalars import read_scalars

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / 'configs/i2i/attention-i2i_tiny_1xb4-cpu_deepforest-fog.py'


def write_split(root, split, names, sites, with_boxes=True):
    images, annotations = [], []
    for i, (name, site) in enumerate(zip(names, sites)):
        images.append(dict(id=i + 1, file_name=name, width=64, height=64, site=site))
        if with_boxes:
            annotations.append(dict(id=i + 1, image_id=i + 1, category_id=1, bbox=[8, 8, 20, 20],
                                    area=400, iscrowd=0))
    (root / 'annotations').mkdir(parents=True, exist_ok=True)
    (root / 'annotations' / f'{split}.json').write_text(
        json.dumps(dict(images=images, annotations=annotations,
                        categories=[dict(id=1, name='tree')])))


@pytest.fixture(scope='module')
def fixture_data(tmp_path_factory):
    root = tmp_path_factory.mktemp('i2i')
    rng = np.random.default_rng(0)
    for domain in ('clear', 'fog'):
        (root / domain / 'images').mkdir(parents=True)
        for i in range(6):
            image = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
            if domain == 'fog':
                image = (image * 0.4 + 150).astype(np.uint8)
            cv2.imwrite(str(root / domain / 'images' / f'{i}.png'), image)
        names = [f'{i}.png' for i in range(6)]
        write_split(root / domain, 'train', names[:3], ['YELL', 'OSBS', 'SOAP'])
        write_split(root / domain, 'unlabeled', names[3:], ['YELL'] * 3, with_boxes=False)
        write_split(root / domain, 'val', names[:2], ['YELL', 'OSBS'])
        write_split(root / domain, 'test', names[:2], ['YELL', 'OSBS'])
    return root


def fixture_config(root, tmp_path):
    test_pipeline = [
        dict(type='LoadImageFromFile'),  # the loader DetInferencer swaps for its own
        dict(type='Resize', scale=(64, 64), keep_ratio=True),
        dict(type='LoadAnnotations', with_bbox=True),
        dict(type='PackDetInputs',
             meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
    ]
    fog = f'{root}/fog/'
    text = f"""
_base_ = '{CONFIG}'
detector_checkpoint = None
model = dict(detector_checkpoint=None)
train_dataloader = dict(
    batch_size=2,
    dataset=dict(
        source=dict(ann_file='{root}/clear/annotations/train.json', img_dir='{root}/clear/images/'),
        target=dict(ann_file='{fog}annotations/unlabeled.json', img_dir='{fog}images/'),
        pipeline=[
            dict(type='LoadImageChecked'),
            dict(type='RandomCrop', crop_size=(32, 32)),
            dict(type='PackDetInputs', meta_keys=('img_path', 'ori_shape', 'img_shape')),
        ]))
val_dataloader = dict(dataset=dict(data_root='{fog}', pipeline={test_pipeline}))
test_dataloader = dict(dataset=dict(data_root='{fog}', pipeline={test_pipeline}))
val_evaluator = dict(ann_file='{fog}annotations/val.json')
test_evaluator = dict(ann_file='{fog}annotations/test.json')
train_cfg = dict(max_iters=2, val_interval=2)
default_hooks = dict(checkpoint=dict(interval=2, save_best=None))
"""
    path = tmp_path / 'i2i_fixture.py'
    path.write_text(text)
    return path


def test_unpaired_dataset_pairs_reproducibly_and_filters_sites(fixture_data):
    cfg = dict(
        type='UnpairedDomainDataset',
        source=dict(ann_file=f'{fixture_data}/clear/annotations/train.json',
                    img_dir=f'{fixture_data}/clear/images/', sites=['OSBS', 'SOAP']),
        target=dict(ann_file=f'{fixture_data}/fog/annotations/unlabeled.json',
                    img_dir=f'{fixture_data}/fog/images/'),
        pipeline=[dict(type='LoadImageChecked'),
                  dict(type='PackDetInputs', meta_keys=('img_path', 'ori_shape', 'img_shape'))],
        seed=3)
    init_default_scope('mmdet')  # the pipeline is built from mmengine's root registry
    first, second = DATASETS.build(cfg), DATASETS.build(cfg)
    assert len(first) == 3 and {e['site'] for e in first.source_images} == {'OSBS', 'SOAP'}
    pairs = [first.source_partner(i % 3) for i in range(12)]
    assert pairs == [second.source_partner(i % 3) for i in range(12)]
    assert len(set(pairs)) > 1
    item = first[0]
    assert item['inputs']['source'].shape == item['inputs']['target'].shape == (3, 64, 64)
    with pytest.raises(ValueError, match='site'):
        DATASETS.build(dict(cfg, source=dict(cfg['source'], sites=['NOPE'])))


@pytest.fixture(scope='module')
def trained(fixture_data, tmp_path_factory):
    """The fixture config trained for 2 iterations through the train entry point."""
    tmp_path = tmp_path_factory.mktemp('run')
    config = fixture_config(fixture_data, tmp_path)
    work = tmp_path / 'work'
    train = subprocess.run(
        [sys.executable, '-m', 'mmproseco.tools.train', str(config), '--work-dir', str(work)],
        cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO)), capture_output=True, text=True)
    assert train.returncode == 0, train.stderr[-3000:]
    return config, work


def test_train_then_test_through_the_entry_points(trained, tmp_path):
    config, work = trained
    env = dict(os.environ, PYTHONPATH=str(REPO))
    checkpoint = work / 'iter_2.pth'
    assert checkpoint.exists()
    logged = read_scalars(str(work))
    assert any('loss_lg_gg' in r for r in logged) and any('coco/bbox_mAP_50' in r for r in logged)
    test = subprocess.run(
        [sys.executable, '-m', 'mmproseco.tools.test', str(config), str(checkpoint), '--work-dir',
         str(tmp_path / 'test')],
        cwd=REPO, env=env, capture_output=True, text=True)
    assert test.returncode == 0, test.stderr[-3000:]
    assert 'coco/bbox_mAP_50' in test.stdout + test.stderr
    assert Config.fromfile(str(config)).model.type == 'AdaptedDetector'


def test_det_inferencer_runs_the_adapted_detector_on_a_folder(trained, fixture_data, tmp_path):
    from mmdet.apis import DetInferencer
    config, work = trained
    inferencer = DetInferencer(model=str(config), weights=str(work / 'iter_2.pth'), device='cpu')
    assert type(inferencer.model).__name__ == 'AdaptedDetector'
    assert inferencer.model.dataset_meta['classes'] == ('tree', )
    images = fixture_data / 'fog' / 'images'
    out = tmp_path / 'inference'
    result = inferencer(str(images), out_dir=str(out), no_save_pred=False, pred_score_thr=0.0)
    names = sorted(p.name for p in images.glob('*.png'))
    assert len(result['predictions']) == len(names)
    assert sorted(p.name for p in (out / 'vis').glob('*.png')) == names
    assert sorted(p.stem for p in (out / 'preds').glob('*.json')) == [Path(n).stem for n in names]
    # the visualisation is the target image with the detections painted over it
    painted = cv2.imread(str(out / 'vis' / names[0]))
    assert painted.shape == cv2.imread(str(images / names[0])).shape
