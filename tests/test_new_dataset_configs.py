"""COCO and VOC inherit the same method configs; their datasets build on a tiny fake tree
in the standard layouts."""
import json

import pytest
from mmdet.datasets import CocoDataset
from mmdet.registry import DATASETS
from mmengine.config import Config
from mmengine.registry import init_default_scope
from PIL import Image

import mmproseco  # noqa: F401
from mmproseco.pipeline.splits import main as make_splits


def fake_coco(root, split, names, categories):
    (root / split).mkdir(parents=True)
    images, anns = [], []
    for i in range(1, 7):
        file_name = f'{i:012d}.jpg'
        Image.new('RGB', (64, 48), (i * 20, 90, 40)).save(root / split / file_name)
        images.append(dict(id=i, file_name=file_name, width=64, height=48))
        anns.append(dict(id=i, image_id=i, category_id=categories[i % len(categories)]['id'],
                         bbox=[4, 4, 20, 16], area=320, iscrowd=0))
    (root / 'annotations').mkdir(exist_ok=True)
    (root / 'annotations' / names).write_text(
        json.dumps(dict(images=images, annotations=anns, categories=categories)))


@pytest.fixture(scope='module')
def coco_tree(tmp_path_factory):
    root = tmp_path_factory.mktemp('tree') / 'coco'
    cats = [dict(id=i + 1, name=n) for i, n in enumerate(CocoDataset.METAINFO['classes'])]
    fake_coco(root, 'train2017', 'instances_train2017.json', cats)
    fake_coco(root, 'val2017', 'instances_val2017.json', cats)
    return root


def test_mini_coco_finetune_config_builds_its_split(coco_tree, tmp_path):
    init_default_scope('mmdet')
    make_splits([str(coco_tree / 'annotations' / 'instances_train2017.json'),
                 str(tmp_path / 'splits'), '--fractions', '50', '--seeds', '0'])
    cfg = Config.fromfile('configs/finetune/deformable-detr_r50_8xb4-50e_mini-coco.py')
    assert cfg.model.backbone.init_cfg is None
    train = cfg.train_dataloader.dataset
    train.update(ann_file=str(tmp_path / 'splits' / 'train@50pct_seed0.json'),
                 data_prefix=dict(img=str(coco_tree / 'train2017') + '/'))
    dataset = DATASETS.build(train)
    assert len(dataset) == 3 and dataset[0]['inputs'].shape[0] == 3
    val = cfg.val_dataloader.dataset
    val.update(data_root=str(coco_tree) + '/')
    assert len(DATASETS.build(val)) == 6


def test_proseco_coco_and_voc_configs_share_the_method(repo_root):
    coco = Config.fromfile('configs/proseco/proseco_deformable-detr_r50_8xb4-50e_coco.py')
    voc = Config.fromfile('configs/proseco/proseco_deformable-detr_r50_8xb4-50e_voc0712.py')
    assert coco.model == voc.model and coco.model.type == 'ProSeCo'
    assert coco.model.detector.num_queries == 300
    assert coco.model.detector.encoder.num_layers == coco.model.detector.decoder.num_layers == 6
    assert voc.train_dataloader.dataset.proposal_file == 'work/proposals/voc/proposals.npz'


def test_mini_voc_dataset_builds_on_a_voc_tree(tmp_path):
    init_default_scope('mmdet')
    cfg = Config.fromfile('configs/finetune/deformable-detr_r50_8xb4-50e_mini-voc.py')
    classes = cfg.metainfo['classes']
    root = tmp_path / 'VOCdevkit'
    (root / 'VOC2007' / 'JPEGImages').mkdir(parents=True)
    images, anns = [], []
    for i in range(1, 5):
        name = f'VOC2007/JPEGImages/00000{i}.jpg'
        Image.new('RGB', (50, 40)).save(root / name)
        images.append(dict(id=i, file_name=name, width=50, height=40))
        anns.append(dict(id=i, image_id=i, category_id=i, bbox=[2, 2, 10, 10], area=100,
                         iscrowd=0, ignore=0))
    (root / 'annotations').mkdir()
    (root / 'annotations' / 'voc07_test.json').write_text(json.dumps(dict(
        images=images, annotations=anns,
        categories=[dict(id=i + 1, name=n) for i, n in enumerate(classes)])))
    val = cfg.val_dataloader.dataset
    val.update(data_root=str(root) + '/')
    dataset = DATASETS.build(val)
    assert len(dataset) == 4
    assert dataset[0]['data_samples'].img_path.endswith('000001.jpg')
    assert cfg.model.bbox_head.num_classes == len(classes) == 20
