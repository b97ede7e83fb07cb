"""End to end through the real entry points: `mim train` / `mim test` of the installed
package, on a tiny generated shapes set. ProSeCo pretrains for a few iterations and its
checkpoint loads into the supervised fine-tuning config."""
import os
import os.path as osp
import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e
BIN = osp.dirname(sys.executable)
SUPERVISED = 'configs/deformable_detr/deformable-detr_r18-tiny_1xb8-cpu_shapes.py'
PROSECO = 'configs/proseco/proseco_deformable-detr_r18-tiny_1xb8-cpu_shapes.py'
FINETUNE = 'configs/finetune/deformable-detr_r18-tiny_1xb8-cpu_shapes-finetune.py'


def run(cmd, cwd, timeout=600):
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ['PATH'], OMP_NUM_THREADS='2')
    env.pop('PYTHONPATH', None)  # mim must run the installed package, as a user's would
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                         timeout=timeout)
    assert out.returncode == 0, f'{cmd}\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}'
    return out.stdout + out.stderr


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory, repo_root):
    root = tmp_path_factory.mktemp('e2e')
    run([sys.executable, 'tools/prepare_data.py', '--out', str(root / 'data'), '--datasets',
         'shapes', '--shapes-sizes', '16', '4', '4'], repo_root)
    return root


def data_options(root):
    shapes = f'{root}/data/shapes/'
    opts = [f'{loader}.dataset.data_root={shapes}' for loader in
            ('train_dataloader', 'val_dataloader', 'test_dataloader')]
    return opts + [f'val_evaluator.ann_file={shapes}annotations/val.json',
                   f'test_evaluator.ann_file={shapes}annotations/test.json']


def test_mim_train_then_mim_test(tiny_data, repo_root):
    work = tiny_data / 'supervised'
    log = run(['mim', 'train', 'mmproseco', SUPERVISED, '--work-dir', str(work),
               '--cfg-options', 'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
               'default_hooks.checkpoint.interval=2', 'default_hooks.visualization.interval=1',
               *data_options(tiny_data)], repo_root)
    assert 'coco/bbox_mAP' in log
    assert (work / 'iter_2.pth').exists()
    # Each validation paints predictions on validation images as PNG.
    assert len(pngs_under(work)) >= 1
    log = run(['mim', 'test', 'mmproseco', SUPERVISED, '--checkpoint', str(work / 'iter_2.pth'),
               '--work-dir', str(tiny_data / 'test'), '--cfg-options',
               *data_options(tiny_data)], repo_root)
    assert 'coco/bbox_mAP:' in log and 'bbox_mAP_copypaste' in log
    # As with mmdet's test.py, only --show-dir paints test images: one per image then.
    assert pngs_under(tiny_data / 'test') == []
    run(['mim', 'test', 'mmproseco', SUPERVISED, '--checkpoint', str(work / 'iter_2.pth'),
         '--work-dir', str(tiny_data / 'shown'), '--show-dir', 'painted', '--cfg-options',
         *data_options(tiny_data)], repo_root)
    assert len(pngs_under(tiny_data / 'shown')) == 4


def pngs_under(root):
    return [f for _, _, files in os.walk(root) for f in files if f.endswith('.png')]


def test_proseco_checkpoint_loads_into_finetuning(tiny_data, repo_root):
    shapes = tiny_data / 'data' / 'shapes'
    proposals = tiny_data / 'proposals'
    run([sys.executable, 'tools/selective_search.py', '--ann',
         str(shapes / 'annotations' / 'unlabeled.json'), '--img-dir', str(shapes / 'images'),
         '--out', str(proposals), '--no-progress'], repo_root)
    work = tiny_data / 'proseco'
    run(['mim', 'train', 'mmproseco', PROSECO, '--work-dir', str(work), '--cfg-options',
         'train_cfg.max_iters=2', 'default_hooks.checkpoint.interval=2',
         'train_dataloader.batch_size=2', f'train_dataloader.dataset.data_root={shapes}/',
         f'train_dataloader.dataset.proposal_file={proposals}/proposals.npz',
         'train_dataloader.dataset.ann_file=annotations/unlabeled.json',
         'train_dataloader.dataset.data_prefix.img=images/'], repo_root)
    exported = work / 'detector.pth'
    log = run([sys.executable, 'tools/export_pretrained.py', str(work / 'iter_2.pth'),
               str(exported)], repo_root)
    assert 'bbox_head.cls_branches' in log
    log = run(['mim', 'train', 'mmproseco', FINETUNE, '--work-dir', str(tiny_data / 'ft'),
               '--cfg-options', f'load_from={exported}', 'train_cfg.max_iters=1',
               'train_cfg.val_interval=1', 'default_hooks.checkpoint.interval=1',
               'default_hooks.checkpoint.save_best=None', *data_options(tiny_data),
               'train_dataloader.dataset.ann_file=annotations/train.json',
               'train_dataloader.dataset.data_prefix.img=images/'],
              repo_root)
    assert f'Load checkpoint from {exported}' in log
    # mmengine lists what the fine-tuning model did not find: the new class head only.
    missing = log.split('missing keys in source state_dict:')[1].split('\n')[0]
    assert 'bbox_head.cls_branches' in missing and 'encoder' not in missing
