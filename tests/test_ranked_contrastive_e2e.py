"""End to end: a tiny crop-embedding config trains and tests through the entry points."""
import json
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CLASSES = ('red', 'green', 'blue', 'yellow')
COLOURS = ((40, 40, 220), (40, 200, 40), (220, 60, 40), (40, 220, 230))  # BGR

CONFIG = '''
_base_ = ['{repo}/configs/_base_/models/ranked-contrastive_r18-cpu.py',
          '{repo}/configs/_base_/default_runtime.py']
classes = {classes}
withheld = ('yellow', )
metainfo = dict(classes=classes)
pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations', with_bbox=True),
            dict(type='PackDetInputs', meta_keys=('img_id', 'img_path'))]
source = dict(type='CocoDataset', data_root='{root}/', metainfo=metainfo,
              ann_file='train.json', data_prefix=dict(img='images/'))
query = dict(source, ann_file='test.json')
model = dict(
    data_preprocessor=dict(crop_size=16),
    backbone=dict(base_channels=8),
    head=dict(in_channels=64, hidden_channels=32, out_channels=16,
              loss=dict(type='RankedContrastiveLoss', classes=classes,
                        class_ranks={{'red': [['green']], 'green': [['red']]}},
                        temperatures=(0.1, 0.2))),
    key_encoder=dict(queue_size=24))
custom_hooks = [dict(type='TeacherEMAHook', momentum=0.9, momentum_schedule='constant')]
train_dataloader = dict(
    batch_size=4, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='ObjectCropDataset', role='train', dataset=source,
                 withheld_classes=withheld, pipeline=pipeline))
eval_set = dict(type='ConcatDataset', datasets=[
    dict(type='ObjectCropDataset', role='prototype', dataset=source,
         withheld_classes=withheld, pipeline=pipeline),
    dict(type='ObjectCropDataset', role='query', dataset=query,
         withheld_classes=withheld, pipeline=pipeline)])
val_dataloader = dict(batch_size=4, num_workers=0, drop_last=False,
                      sampler=dict(type='DefaultSampler', shuffle=False), dataset=eval_set)
test_dataloader = val_dataloader
val_evaluator = [dict(type='PrototypeAccuracy'),
                 dict(type='OODAUROC', withheld_classes=withheld)]
test_evaluator = [dict(type='PrototypeAccuracy', tsne=True),
                  dict(type='OODAUROC', withheld_classes=withheld, out_dir='{work}/plots')]
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.05, momentum=0.9))
param_scheduler = []
train_cfg = dict(type='IterBasedTrainLoop', max_iters=4, val_interval=4)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(logger=dict(interval=1), visualization=dict(draw=False),
                     checkpoint=dict(by_epoch=False, interval=4, save_best=None))
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)
'''


def _write_coco(root, split, num_images, rng):
    images, annotations = [], []
    for i in range(num_images):
        img = np.full((48, 48, 3), 128, np.uint8)
        for j in range(2):
            label = (i + j) % len(CLASSES)
            x, y = 4 + 22 * j, int(rng.integers(2, 28))
            img[y:y + 18, x:x + 18] = COLOURS[label]
            annotations.append(dict(id=len(annotations) + 1, image_id=i + 1,
                                    category_id=label + 1, bbox=[x, y, 18, 18], area=324,
                                    iscrowd=0))
        name = f'{split}_{i}.png'
        cv2.imwrite(osp.join(root, 'images', name), img)
        images.append(dict(id=i + 1, file_name=name, width=48, height=48))
    categories = [dict(id=k + 1, name=n) for k, n in enumerate(CLASSES)]
    with open(osp.join(root, f'{split}.json'), 'w') as f:
        json.dump(dict(images=images, annotations=annotations, categories=categories), f)


def _run(*args, cwd):
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    proc = subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


@pytest.mark.e2e
def test_train_test_and_report(tmp_path):
    root, work = tmp_path / 'data', tmp_path / 'ours_seed0'  # the report reads the seed
    os.makedirs(root / 'images')
    rng = np.random.default_rng(0)
    _write_coco(str(root), 'train', 8, rng)
    _write_coco(str(root), 'test', 4, rng)
    config = tmp_path / 'tiny_crops.py'
    config.write_text(CONFIG.format(repo=REPO, root=root, work=work, classes=CLASSES))
    _run('-m', 'mmproseco.tools.train', str(config), '--work-dir', str(work), cwd=tmp_path)
    checkpoint = work / 'iter_4.pth'
    assert checkpoint.is_file()
    _run('-m', 'mmproseco.tools.test', str(config), str(checkpoint), '--work-dir', str(work),
         cwd=tmp_path)
    results = [p for p in work.glob('*/*.json') if p.stem == p.parent.name]
    metrics = json.loads(max(results, key=os.path.getmtime).read_text())
    assert 0 <= metrics['proto/accuracy'] <= 1
    assert 0 <= metrics['ood/auroc_max_softmax'] <= 1 and 'ood/auroc_gaussian' in metrics
    assert (work / 'plots' / 'ood_roc.png').is_file()
    assert list(work.glob('*/vis_data/vis_image/tsne_embeddings_*.png'))
    out = _run(osp.join(REPO, 'tools', 'ranked_report.py'), '--run', 'Ours', str(work),
               '--json', str(tmp_path / 'report.json'), cwd=tmp_path)
    assert '| Ours | 0 |' in out
    report = json.loads((tmp_path / 'report.json').read_text())
    ours = report['methods']['Ours']
    assert ours['accuracy']['mean'] == pytest.approx(metrics['proto/accuracy'])
    assert ours['auroc']['max_softmax']['all']['mean'] == pytest.approx(
        metrics['ood/auroc_max_softmax'])
    assert ours['auroc']['gaussian']['yellow']['values'] == [metrics['ood/auroc_gaussian/yellow']]
