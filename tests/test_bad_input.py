"""The 7 kinds of bad input and fault of issue 12, each reproduced on tiny real files.

1. a corrupt image inside a dataloader worker; 2. false clipping warnings; 3. a diverged run;
4. a damaged checkpoint; 5. an image whose size disagrees with its JSON; 6. empty supervision;
7. a wrong config path. Torch runs dataloader workers with one thread each.
"""
import glob
import json
import math
import os
import os.path as osp
import re
import subprocess
import sys
import uuid

import cv2
import numpy as np
import pytest
import torch
from mmdet.models.task_modules.assigners import HungarianAssigner
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.logging import MessageHub, MMLogger
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmengine.structures import InstanceData
from torch._utils import ExceptionWrapper
from torch.utils.data import DataLoader

import mmproseco  # noqa: F401  (registers the modules)
from mmproseco.datasets.checked_coco import CheckedCocoDataset
from mmproseco.datasets.data_errors import DataError
from mmproseco.datasets.unlabeled import UnlabeledDetDataset, save_proposal_file
from mmproseco.engine.divergence import DivergenceError
from mmproseco.models.task_modules import CheckedHungarianAssigner, ProposalMatchingAssigner
from mmproseco.tools.cli import check_checkpoint, load_config, user_error_message
from mmproseco.tools.train import build_runner
from tools.export_pretrained import main as export_main

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
SIZE = 40
WORKERS = [0, 2]


def write_coco(folder, boxes_per_image, listed_size=SIZE, image_size=SIZE, classes=('a', 'b')):
    """A COCO file whose images are ``image_size`` px but listed as ``listed_size`` px.

    ``boxes_per_image``: one list of ``(category_id, [x, y, w, h])`` per image.
    """
    (folder / 'images').mkdir(parents=True, exist_ok=True)
    images, annotations = [], []
    for index, boxes in enumerate(boxes_per_image):
        name = f'im{index}.png'
        cv2.imwrite(str(folder / 'images' / name),
                    np.full((image_size, image_size, 3), 30 * index, np.uint8))
        images.append(dict(id=index + 1, file_name=name, width=listed_size, height=listed_size))
        for category_id, bbox in boxes:
            annotations.append(dict(id=len(annotations) + 1, image_id=index + 1,
                                    category_id=category_id, bbox=bbox,
                                    area=bbox[2] * bbox[3], iscrowd=0))
    categories = [dict(id=i + 1, name=name) for i, name in enumerate(classes)]
    ann_file = folder / 'ann.json'
    ann_file.write_text(json.dumps(dict(images=images, annotations=annotations,
                                        categories=categories)))
    return ann_file


def coco_dataset(ann_file, pipeline=(), classes=('a', 'b'), **kwargs):
    init_default_scope('mmdet')
    return CheckedCocoDataset(ann_file=str(ann_file), metainfo=dict(classes=classes),
                              data_prefix=dict(img=str(ann_file.parent / 'images') + '/'),
                              pipeline=list(pipeline), **kwargs)


def first_batch(dataset, num_workers):
    loader = DataLoader(dataset, batch_size=1, num_workers=num_workers,
                        collate_fn=pseudo_collate)
    return next(iter(loader))


def log_to_file(tmp_path):
    log_file = tmp_path / f'{uuid.uuid4()}.log'
    MMLogger.get_instance(f'bad-input-{uuid.uuid4()}', log_file=str(log_file))
    return log_file


def run_tool(args, **env):
    env = dict(os.environ, PYTHONPATH=REPO, **env)
    env.pop('MMPROSECO_DEBUG', None)
    return subprocess.run([sys.executable, *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)


def assert_one_line_error(out, *parts):
    assert out.returncode == 2, out.stderr[-3000:]
    assert out.stderr.startswith('error: ') and 'Traceback' not in out.stderr, out.stderr[-3000:]
    for part in parts:
        assert part in out.stderr, out.stderr[-3000:]


@pytest.fixture(scope='module')
def shapes(tmp_path_factory):
    """The embedded shapes set at 6/4/4 images, as tools/prepare_data.py builds it."""
    out = tmp_path_factory.mktemp('data')
    result = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'prepare_data.py'), '--out', str(out),
         '--datasets', 'shapes', '--shapes-sizes', '6', '4', '4'], capture_output=True,
        text=True)
    assert result.returncode == 0, result.stderr
    return out / 'shapes'


# ------------------------------------------------- 1. errors of dataloader workers
def reraised(err, where='in DataLoader worker process 1'):
    """``err`` as torch's DataLoader re-raises it in the main process."""
    try:
        raise err
    except Exception:
        wrapper = ExceptionWrapper(where=where)
    with pytest.raises(Exception) as info:
        wrapper.reraise()
    return info.value


def test_data_error_survives_the_trip_from_a_worker():
    err = reraised(DataError('x/im.png', 'cannot be decoded', 'replace it'))
    assert type(err) is DataError
    assert (err.path, err.problem, err.fix) == ('x/im.png', 'cannot be decoded', 'replace it')
    assert user_error_message(err) == 'x/im.png: cannot be decoded\nFix: replace it'


def test_worker_errors_are_reported_without_the_worker_traceback():
    err = reraised(ValueError('bad value of num_proposals'))
    assert 'Traceback' in str(err)  # torch puts the worker's traceback in the message
    assert user_error_message(err) == 'bad value of num_proposals'

    class ThreeArgError(ValueError):  # a user error torch cannot rebuild: a RuntimeError
        def __init__(self, a, b, c):
            super().__init__(f'{a}: {b}; {c}')
    ThreeArgError.__name__ = 'DataError'
    err = reraised(ThreeArgError('f.png', 'broken', 'fix it'))
    assert type(err) is RuntimeError
    assert user_error_message(err) == 'f.png: broken; fix it'
    assert user_error_message(reraised(ZeroDivisionError('a bug'))) is None
    assert user_error_message(RuntimeError('a bug')) is None


@pytest.mark.parametrize('num_workers', WORKERS)
@pytest.mark.parametrize('damage', ['truncated', 'empty'])
def test_corrupt_image_in_a_loader_is_a_data_error(tmp_path, num_workers, damage):
    ann_file = write_coco(tmp_path, [[(1, [2, 2, 10, 10])]])
    path = tmp_path / 'images' / 'im0.png'
    pixels = np.random.default_rng(0).integers(0, 255, (SIZE, SIZE, 3), dtype=np.uint8)
    png = cv2.imencode('.png', pixels)[1].tobytes()
    path.write_bytes(png[:len(png) // 2] if damage == 'truncated' else b'')
    dataset = coco_dataset(ann_file, [dict(type='LoadImageChecked')])
    with pytest.raises(DataError) as info:
        first_batch(dataset, num_workers)
    assert info.value.path == str(path) and 'cannot be decoded' in info.value.problem


def tiny_config(tmp_path, base, data_root, **text):
    """A config inheriting ``base`` that trains on ``data_root``'s shapes set."""
    root = f'{data_root}/'
    lines = [f"_base_ = '{REPO}/{base}'",
             f"train_dataloader = dict(batch_size=2, dataset=dict(data_root='{root}'))",
             f"val_dataloader = dict(dataset=dict(data_root='{root}'))",
             f"test_dataloader = dict(dataset=dict(data_root='{root}'))",
             f"val_evaluator = dict(ann_file='{root}annotations/val.json')",
             f"test_evaluator = dict(ann_file='{root}annotations/test.json')",
             *(f'{key} = {value}' for key, value in text.items())]
    path = tmp_path / f'{uuid.uuid4().hex}.py'
    path.write_text('\n'.join(lines))
    return str(path)


DETR = 'configs/deformable_detr/deformable-detr_r18-tiny_1xb8-cpu_shapes.py'


@pytest.mark.parametrize('num_workers', WORKERS)
def test_train_entry_point_reports_a_zero_byte_image_in_one_line(tmp_path, shapes, num_workers):
    data = tmp_path / 'shapes'
    subprocess.run(['cp', '-r', str(shapes), str(data)], check=True)
    train = json.loads((data / 'annotations' / 'train.json').read_text())
    for image in train['images']:
        (data / 'images' / image['file_name']).write_bytes(b'')
    config = tiny_config(tmp_path, DETR, data)
    out = run_tool(['tools/train.py', config, '--work-dir', str(tmp_path / 'work'),
                    '--cfg-options', f'train_dataloader.num_workers={num_workers}',
                    f'train_dataloader.persistent_workers={num_workers > 0}'])
    assert_one_line_error(out, str(data / 'images'), 'cannot be decoded', 'Fix: ')


# ------------------------------------------------------ 2. clipping warnings tell the truth
def test_clipped_count_is_exact_on_a_file_with_known_clips(tmp_path):
    rng = np.random.default_rng(0)
    boxes = []
    for _ in range(200):  # inside the image, in two decimals like tools/prepare_data.py
        x, y = np.round(rng.uniform(0, 20, 2), 2)
        w, h = np.round(rng.uniform(1, SIZE - 20, 2), 2)
        boxes.append((1, [float(x), float(y), float(w), float(h)]))
    boxes += [(1, [10.32, 5.0, 32.36, 10.0]),  # 2.68 px out: a real clip
              (1, [-3.5, 5.0, 10.0, 10.0]),  # 3.5 px out
              (1, [5.0, 38.0, 10.0, 2.5]),  # 0.5 px out
              (1, [5.0, 5.0, 35.004, 10.0])]  # 0.004 px out: rounding, not a clip
    log_file = log_to_file(tmp_path)
    dataset = coco_dataset(write_coco(tmp_path, [boxes]))
    assert (dataset.num_clipped_boxes, dataset.num_dropped_boxes) == (3, 0)
    assert 'clipped 3 boxes' in log_file.read_text()
    kept = [i['bbox'] for i in dataset.get_data_info(0)['instances']]
    assert kept[-4:] == [pytest.approx(b) for b in (
        [10.32, 5.0, 40.0, 15.0], [0.0, 5.0, 6.5, 15.0], [5.0, 38.0, 15.0, 40.0],
        [5.0, 5.0, 40.004, 15.0])]


def test_a_clean_prepare_data_build_logs_no_clipping(tmp_path, shapes):
    log_file = log_to_file(tmp_path)
    classes = tuple(json.loads((shapes / 'class_similarity.json').read_text())['classes'])
    for split in ('train', 'val', 'test'):
        init_default_scope('mmdet')
        dataset = CheckedCocoDataset(
            ann_file=str(shapes / 'annotations' / f'{split}.json'),
            metainfo=dict(classes=classes), data_prefix=dict(img=str(shapes / 'images') + '/'),
            pipeline=[])
        assert (dataset.num_clipped_boxes, dataset.num_dropped_boxes) == (0, 0), split
    assert 'clipped' not in log_file.read_text()


# ------------------------------------------------------------------ 3. a diverged run
def test_assigners_report_divergence_instead_of_scipy(tmp_path):
    hub = MessageHub.get_instance(f'divergence-{uuid.uuid4()}')
    hub.update_info('iter', 6)
    hub.update_info('last_ckpt', str(tmp_path / 'iter_5.pth'))
    gt = InstanceData(bboxes=torch.tensor([[1., 1., 9., 9.], [4., 4., 20., 20.]]),
                      labels=torch.tensor([0, 1]))
    scores = torch.randn(5, 2)
    boxes = torch.tensor([[0., 0., 10., 10.], [3., 3., 21., 19.], [5., 5., 9., 9.],
                          [0., 0., 30., 30.], [2., 8., 12., 18.]])
    costs = [dict(type='FocalLossCost', weight=2.0),
             dict(type='BBoxL1Cost', weight=5.0, box_format='xywh'),
             dict(type='IoUCost', iou_mode='giou', weight=2.0)]
    meta = dict(img_shape=(32, 32))
    checked, plain = CheckedHungarianAssigner(costs), HungarianAssigner(costs)
    ours = checked.assign(InstanceData(scores=scores, bboxes=boxes), gt, meta)
    theirs = plain.assign(InstanceData(scores=scores, bboxes=boxes), gt, meta)
    assert torch.equal(ours.gt_inds, theirs.gt_inds) and torch.equal(ours.labels, theirs.labels)
    nan_scores = scores.clone()
    nan_scores[2, 1] = math.nan
    with pytest.raises(DivergenceError, match=r'training diverged at iteration 7: .*scores.*'
                       r'last good checkpoint is .*iter_5\.pth'):
        checked.assign(InstanceData(scores=nan_scores, bboxes=boxes), gt, meta)

    matcher = ProposalMatchingAssigner()
    embeds = torch.randn(1, 5, 8)
    nan_boxes = boxes.clone()[None]
    nan_boxes[0, 3] = math.nan
    with pytest.raises(DivergenceError, match='training diverged at iteration 7: the matching '
                       'cost of ProposalMatchingAssigner is not finite'):
        matcher.match(embeds, nan_boxes, torch.randn(1, 2, 8), gt.bboxes[None], [(32, 32)])


def set_every_lr(cfg, lr):
    """Set ``lr`` in every optimizer of ``cfg.optim_wrapper`` (one, or one per submodel)."""
    def visit(node):
        for key, value in node.items():
            if key == 'optimizer':
                value.lr = lr
            elif isinstance(value, dict):
                visit(value)
    visit(cfg.optim_wrapper)


def checkpoints_are_finite(work_dir):
    """Every checkpoint of ``work_dir`` holds finite weights; returns their names."""
    names = sorted(glob.glob(f'{work_dir}/*.pth'))
    for name in names:
        state = torch.load(name, map_location='cpu', weights_only=True)['state_dict']
        assert all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point()), name
    last = osp.join(work_dir, 'last_checkpoint')
    if osp.exists(last):
        with open(last) as f:
            assert f.read().strip() in names
    return [osp.basename(name) for name in names]


def train_to_divergence(config, work_dir, lr=1e10, max_iters=6, **cfg_changes):
    """Train ``config`` at ``lr``; returns the :class:`DivergenceError` it must stop with."""
    cfg = load_config(config, work_dir=str(work_dir))
    set_every_lr(cfg, lr)
    cfg.merge_from_dict(dict({
        'train_cfg.max_iters': max_iters, 'train_cfg.val_interval': 100,
        'default_hooks.checkpoint.interval': 1, 'default_hooks.checkpoint.save_best': None,
        'default_hooks.logger.interval': 1, 'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False, 'randomness': dict(seed=0)},
        **cfg_changes))
    runner = Runner.from_cfg(cfg)
    with pytest.raises(DivergenceError) as info:
        runner.train()
    return info.value, runner


def proseco_config(tmp_path, shapes, base='configs/proseco/'
                   'proseco_deformable-detr_r18-tiny_1xb8-cpu_shapes.py'):
    """ProSeCo (or SCE, DETReg) on the shapes pool, with random proposals."""
    unlabeled = json.loads((shapes / 'annotations' / 'unlabeled.json').read_text())['images']
    rng = np.random.default_rng(0)
    boxes = []
    for _ in unlabeled:
        xy = rng.uniform(0, 90, (12, 2))
        boxes.append(np.concatenate([xy, xy + rng.uniform(8, 36, (12, 2))], 1))
    proposal_file = tmp_path / 'proposals.npz'
    save_proposal_file(str(proposal_file), [i['file_name'] for i in unlabeled],
                       [(i['height'], i['width']) for i in unlabeled], boxes)
    path = tmp_path / f'{uuid.uuid4().hex}.py'
    path.write_text('\n'.join([
        f"_base_ = '{REPO}/{base}'",
        f"train_dataloader = dict(batch_size=2, dataset=dict("
        f"ann_file='{shapes}/annotations/unlabeled.json', "
        f"data_prefix=dict(img='{shapes}/images/'), proposal_file='{proposal_file}'))"]))
    return str(path)


def i2i_config(tmp_path):
    """The attention-I2I adapter on 64 px tiles with the DeepForest layout."""
    root = tmp_path / 'i2i'
    rng = np.random.default_rng(0)
    for domain in ('clear', 'fog'):
        (root / domain / 'images').mkdir(parents=True)
        for index in range(3):
            cv2.imwrite(str(root / domain / 'images' / f'{index}.png'),
                        rng.integers(0, 256, (64, 64, 3), dtype=np.uint8))
        for split, boxes in (('train', [[(1, [8, 8, 20, 20])]] * 2), ('unlabeled', [[]] * 3),
                             ('val', [[(1, [8, 8, 20, 20])]]), ('test', [[(1, [8, 8, 20, 20])]])):
            images = [dict(id=i + 1, file_name=f'{i}.png', width=64, height=64, site='YELL')
                      for i in range(len(boxes))]
            annotations = [dict(id=i + 1, image_id=i + 1, category_id=1, bbox=box[0][1],
                                area=400, iscrowd=0) for i, box in enumerate(boxes) if box]
            (root / domain / 'annotations').mkdir(exist_ok=True)
            (root / domain / 'annotations' / f'{split}.json').write_text(json.dumps(dict(
                images=images, annotations=annotations, categories=[dict(id=1, name='tree')])))
    test_pipeline = [dict(type='LoadImageChecked'),
                     dict(type='LoadAnnotations', with_bbox=True), dict(type='PackDetInputs')]
    fog = f'{root}/fog/'
    path = tmp_path / 'i2i.py'
    path.write_text(f"""
_base_ = '{REPO}/configs/i2i/attention-i2i_tiny_1xb4-cpu_deepforest-fog.py'
model = dict(detector_checkpoint=None)
train_dataloader = dict(batch_size=2, dataset=dict(
    source=dict(ann_file='{root}/clear/annotations/train.json', img_dir='{root}/clear/images/'),
    target=dict(ann_file='{fog}annotations/unlabeled.json', img_dir='{fog}images/'),
    pipeline=[dict(type='LoadImageChecked'), dict(type='RandomCrop', crop_size=(32, 32)),
              dict(type='PackDetInputs', meta_keys=('img_path', 'ori_shape', 'img_shape'))]))
val_dataloader = dict(dataset=dict(data_root='{fog}', pipeline={test_pipeline}))
test_dataloader = dict(dataset=dict(data_root='{fog}', pipeline={test_pipeline}))
val_evaluator = dict(ann_file='{fog}annotations/val.json')
test_evaluator = dict(ann_file='{fog}annotations/test.json')
""")
    return str(path)


FASTER_RCNN = 'configs/faster_rcnn/faster-rcnn_r18-tiny_fpn_1xb8-cpu_shapes.py'


@pytest.mark.parametrize('model', ['deformable-detr', 'faster-rcnn', 'proseco', 'i2i'])
def test_lr_1e10_stops_with_the_divergence_message_and_no_nan_checkpoint(
        tmp_path, shapes, model):
    configs = {'deformable-detr': lambda: tiny_config(tmp_path, DETR, shapes),
               'faster-rcnn': lambda: tiny_config(tmp_path, FASTER_RCNN, shapes),
               'proseco': lambda: proseco_config(tmp_path, shapes),
               'i2i': lambda: i2i_config(tmp_path)}
    config = configs[model]()
    err, runner = train_to_divergence(config, tmp_path / 'work')
    assert re.match(r'training diverged at iteration [1-5]: ', str(err)), str(err)
    assert runner.iter < 5 and 'Fix: lower the learning rate' in str(err)
    saved = checkpoints_are_finite(tmp_path / 'work')
    if saved:
        assert f'the last good checkpoint is {tmp_path / "work" / saved[-1]}' in str(err)
    else:
        assert 'no checkpoint was saved before it' in str(err)


def test_divergence_names_the_last_good_checkpoint_and_can_only_warn(tmp_path, shapes):
    config = tiny_config(tmp_path, FASTER_RCNN, shapes)
    # A sane rate for 2 iterations, then 1e12 times larger: iterations 1-2 are checkpointed
    # (the configs keep the last 2 checkpoints).
    scheduler = [dict(type='MultiStepLR', by_epoch=False, milestones=[2], gamma=1e12)]
    err, runner = train_to_divergence(config, tmp_path / 'work', lr=0.01,
                                      param_scheduler=scheduler)
    saved = checkpoints_are_finite(tmp_path / 'work')
    assert 'iter_2.pth' in saved and runner.iter >= 2
    last_good = re.escape(str(tmp_path / 'work' / saved[-1]))
    assert re.match(rf'training diverged at iteration {runner.iter + 1}: .*; the last good '
                    rf'checkpoint is {last_good}\n', str(err)), str(err)

    cfg = load_config(config, work_dir=str(tmp_path / 'warn'))
    set_every_lr(cfg, 1e10)
    cfg.merge_from_dict({'train_cfg.max_iters': 3, 'train_dataloader.num_workers': 0,
                         'default_hooks.checkpoint.interval': 100,
                         'default_hooks.divergence_guard.action': 'warn'})
    runner = Runner.from_cfg(cfg)
    runner.train()  # goes on to the end
    assert runner.iter == 3
    log = open(glob.glob(f'{tmp_path}/warn/*/*.log')[0]).read()
    assert log.count('training diverged at iteration') == 1


def test_the_guard_is_on_in_every_config_and_detrs_use_the_checked_assigner():
    configs = sorted(glob.glob(f'{REPO}/configs/**/*.py', recursive=True))
    configs = [c for c in configs if '/_base_/' not in c]
    assert len(configs) > 40
    for path in configs:
        cfg = Config.fromfile(path)
        guard = cfg.default_hooks.get('divergence_guard', {})
        assert guard.get('type') == 'DivergenceGuardHook' and guard['action'] == 'stop', path
        text = json.dumps(cfg.to_dict().get('model', {}), default=str)
        assert '"HungarianAssigner"' not in text, path


# ----------------------------------------------------------------- 4. damaged checkpoints
@pytest.fixture
def damaged_checkpoints(tmp_path):
    good = tmp_path / 'good.pth'
    weights = torch.arange(4096, dtype=torch.float32)
    torch.save(dict(state_dict={'student.backbone.w': weights}, meta={}), good)
    data = good.read_bytes()
    corrupt = bytearray(data)
    offset = data.find(weights.numpy().tobytes()[:256]) + 1000
    corrupt[offset] ^= 0xFF
    files = dict(truncated=data[:len(data) // 2], empty=b'', corrupt=bytes(corrupt))
    for name, content in files.items():
        (tmp_path / f'{name}.pth').write_bytes(content)
    return good, {name: tmp_path / f'{name}.pth' for name in files}


def test_damaged_checkpoints_are_data_errors_naming_the_file(damaged_checkpoints):
    good, damaged = damaged_checkpoints
    check_checkpoint(str(good))
    for name, path in damaged.items():
        with pytest.raises(DataError, match='is not a readable checkpoint') as info:
            check_checkpoint(str(path))
        assert info.value.path == str(path), name
        with pytest.raises(DataError) as info:
            export_main([str(path), str(path.parent / 'out.pth')])
        assert info.value.path == str(path)
    with pytest.raises(DataError, match='not found'):
        check_checkpoint(str(good.parent / 'gone.pth'))
    # Nothing is fetched from the network: a URL is refused before any loader sees it.
    with pytest.raises(DataError, match='not a local file'):
        check_checkpoint('https://download.invalid/detector.pth')


def test_test_tool_reports_a_damaged_checkpoint_in_one_line(damaged_checkpoints):
    for path in damaged_checkpoints[1].values():
        out = run_tool(['tools/test.py', DETR, str(path)])
        assert_one_line_error(out, str(path), 'is not a readable checkpoint', 'Fix: ')


def test_load_from_and_resume_check_the_checkpoint(tmp_path, damaged_checkpoints):
    path = damaged_checkpoints[1]['truncated']
    for option in (dict(cfg_options=dict(load_from=str(path))), dict(resume=str(path))):
        with pytest.raises(DataError) as info:
            build_runner(DETR, work_dir=str(tmp_path), **option)
        assert info.value.path == str(path)
    (tmp_path / 'last_checkpoint').write_text(str(path))  # what `--resume` picks by itself
    with pytest.raises(DataError) as info:
        build_runner(DETR, work_dir=str(tmp_path), resume='auto')
    assert info.value.path == str(path)


# ----------------------------------------------------- 5. image size against the JSON
@pytest.mark.parametrize('num_workers', WORKERS)
def test_image_larger_than_listed_is_an_error_naming_it(tmp_path, num_workers):
    ann_file = write_coco(tmp_path, [[(1, [2, 3, 10, 12])]], listed_size=SIZE,
                          image_size=3 * SIZE)
    dataset = coco_dataset(ann_file, [dict(type='LoadImageChecked')])
    with pytest.raises(DataError) as info:
        first_batch(dataset, num_workers)
    assert info.value.path == str(tmp_path / 'images' / 'im0.png')
    assert 'is 120x120 pixels but its annotation lists it as 40x40' in info.value.problem
    assert "size_mismatch='rescale'" in info.value.fix


def test_rescale_option_scales_the_boxes_counts_and_logs(tmp_path):
    ann_file = write_coco(tmp_path, [[(1, [2, 3, 10, 12])], [(2, [4, 4, 8, 8])]],
                          listed_size=SIZE, image_size=2 * SIZE)
    log_file = log_to_file(tmp_path)
    dataset = coco_dataset(ann_file, [dict(type='LoadImageChecked', size_mismatch='rescale'),
                                      dict(type='LoadAnnotations', with_bbox=True)])
    first, second = dataset[0], dataset[1]
    assert first['gt_bboxes'].tensor.tolist() == [[4., 6., 24., 30.]]
    assert second['gt_bboxes'].tensor.tolist() == [[8., 8., 24., 24.]]
    assert (first['height'], first['width']) == (80, 80) and first['img_shape'] == (80, 80)
    dataset[0]  # a second epoch: logged once per image
    load = dataset.pipeline.transforms[0]
    assert load.num_rescaled_images == 2
    log = log_file.read_text()
    assert log.count('scaled its boxes by (2, 2)') == 2 and '(2 images rescaled so far)' in log
    with pytest.raises(ValueError, match='size_mismatch'):
        coco_dataset(ann_file, [dict(type='LoadImageChecked', size_mismatch='ignore')])


# ------------------------------------------------------------- 6. empty supervision
def proposal_dataset(tmp_path, counts):
    img_dir = tmp_path / 'images'
    img_dir.mkdir(exist_ok=True)
    names = [f'{i}.png' for i in range(len(counts))]
    boxes = []
    for name, count in zip(names, counts):
        cv2.imwrite(str(img_dir / name), np.zeros((50, 60, 3), np.uint8))
        boxes.append(np.tile([[1, 2, 30, 40]], (count, 1)) + np.arange(count)[:, None])
    save_proposal_file(str(tmp_path / 'p.npz'), names, [(50, 60)] * len(names), boxes)
    init_default_scope('mmdet')
    return UnlabeledDetDataset(ann_file='', data_prefix=dict(img=str(img_dir)),
                               proposal_file=str(tmp_path / 'p.npz'), pipeline=[])


def test_images_with_fewer_than_two_proposals_are_skipped_and_counted(tmp_path):
    log_file = log_to_file(tmp_path)
    dataset = proposal_dataset(tmp_path, [5, 0, 1, 3])
    assert [osp.basename(dataset.get_data_info(i)['img_path']) for i in range(len(dataset))] \
        == ['0.png', '3.png']
    assert 'skipped 2 images: 0 of the 4 images' in log_file.read_text()
    assert '2 fewer than 2' in log_file.read_text()


def test_a_proposal_file_without_usable_image_is_an_error(tmp_path):
    with pytest.raises(DataError) as info:
        proposal_dataset(tmp_path, [0, 0, 1])
    assert info.value.path == str(tmp_path / 'p.npz')
    assert 'gives no usable image' in info.value.problem and 'selective_search' in info.value.fix


def test_classes_left_out_by_metainfo_are_counted(tmp_path):
    ann_file = write_coco(tmp_path, [[(1, [2, 2, 5, 5]), (2, [3, 3, 5, 5]), (3, [1, 1, 9, 9])],
                                     [(3, [4, 4, 6, 6])]], classes=('a', 'b', 'c'))
    log_file = log_to_file(tmp_path)
    dataset = coco_dataset(ann_file, classes=('a', ))
    assert dataset.num_ignored_boxes == 3
    assert 'ignored 3 of its 4 boxes, those of the categories b, c' in log_file.read_text()
    assert coco_dataset(ann_file, classes=('a', 'b', 'c')).num_ignored_boxes == 0


def test_a_training_split_without_boxes_is_an_error_naming_it(tmp_path):
    ann_file = write_coco(tmp_path, [[], [(2, [1, 1, 5, 5])]])
    with pytest.raises(DataError) as info:
        coco_dataset(ann_file, classes=('a', ), filter_cfg=dict(filter_empty_gt=True))
    assert info.value.path == str(ann_file)
    assert 'none of its 2 images has a box of the classes a' in info.value.problem
    assert len(coco_dataset(ann_file, classes=('a', ))) == 2  # unlabeled reading still works


# ------------------------------------------------------------------- 7. config paths
def test_a_wrong_config_path_suggests_configs_that_exist(monkeypatch):
    monkeypatch.chdir(REPO)
    with pytest.raises(FileNotFoundError) as info:
        load_config('configs/deformable_detr/deformable-detr_r18_1xb8-cpu_shapes.py')
    suggested = re.findall(r'configs/\S+?\.py', str(info.value).split('does not exist')[1])
    assert 'configs/deformable_detr/deformable-detr_r18-tiny_1xb8-cpu_shapes.py' in suggested
    assert suggested and all(osp.isfile(path) for path in suggested)
