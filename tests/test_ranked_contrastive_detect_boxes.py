"""tools/detect_boxes.py: a real mmdet detector's boxes become a COCO json the crops can read."""
import importlib.util
import json
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmdet.registry import DATASETS, MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmproseco  # noqa: F401

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DETECTOR = osp.join(REPO, 'configs', 'faster_rcnn', 'faster-rcnn_r18-tiny_fpn_1xb8-cpu_shapes.py')


def _tool():
    spec = importlib.util.spec_from_file_location(
        'detect_boxes', osp.join(REPO, 'tools', 'detect_boxes.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_detections_to_annotations_by_hand():
    anns = _tool().detections_to_annotations(
        7, np.array([[10., 20., 30., 60.]]), np.array([0.8]), np.array([1]), [5, 9], first_id=3)
    assert anns == [dict(id=3, image_id=7, category_id=9, bbox=[10., 20., 20., 40.], area=800.,
                         iscrowd=0, score=pytest.approx(0.8))]


@pytest.mark.skipif(not osp.isfile(DETECTOR), reason='the shapes Faster R-CNN config is missing')
def test_detector_boxes_are_read_like_ground_truth(tmp_path):
    cfg = Config.fromfile(DETECTOR)
    classes = list(cfg.metainfo['classes'])
    init_default_scope('mmdet')
    torch.manual_seed(0)
    detector = MODELS.build(cfg.model)
    checkpoint = tmp_path / 'random_init.pth'
    torch.save(dict(state_dict=detector.state_dict(),
                    meta=dict(dataset_meta=dict(classes=classes))), checkpoint)
    (tmp_path / 'images').mkdir()
    rng = np.random.default_rng(0)
    images = []
    for i in range(2):
        cv2.imwrite(str(tmp_path / 'images' / f'{i}.png'),
                    rng.integers(0, 255, (128, 128, 3), dtype=np.uint8))
        images.append(dict(id=i + 1, file_name=f'{i}.png', width=128, height=128))
    categories = [dict(id=10 + k, name=n) for k, n in enumerate(classes)]
    ann = tmp_path / 'gt.json'
    ann.write_text(json.dumps(dict(images=images, annotations=[], categories=categories)))
    out = tmp_path / 'dets.json'
    _tool().main([DETECTOR, str(checkpoint), '--ann', str(ann), '--out', str(out),
                  '--img-dir', str(tmp_path / 'images'), '--score-thr', '0.0'])
    dets = json.loads(out.read_text())
    assert dets['images'] == images and dets['categories'] == categories
    assert dets['annotations'], 'a random detector still returns boxes at threshold 0'
    assert len({a['id'] for a in dets['annotations']}) == len(dets['annotations'])
    for a in dets['annotations']:
        assert a['category_id'] in range(10, 10 + len(classes)) and 0 <= a['score'] <= 1
        assert a['bbox'][2] >= 0 and a['bbox'][3] >= 0
    crops = DATASETS.build(dict(
        type='ObjectCropDataset', role='query', withheld_classes=classes[:1],
        pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations', with_bbox=True),
                  dict(type='PackDetInputs')],
        dataset=dict(type='CocoDataset', ann_file=str(out), metainfo=dict(classes=classes),
                     data_prefix=dict(img=str(tmp_path / 'images') + '/'))))
    sample = crops[0]
    assert sample['data_samples'].crop_role == 'query'
    assert len(sample['data_samples'].gt_instances) > 0
