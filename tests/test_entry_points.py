"""The train/test entry points: user errors are one clear line, never a deep traceback."""
import os
import subprocess
import sys

import pytest
import torch

from mmproseco.pipeline.checkpoints import export_state_dict

PROSECO = 'configs/proseco/proseco_deformable-detr_r18-tiny_1xb8-cpu_shapes.py'


def run_train(repo_root, *args):
    env = dict(os.environ, PYTHONPATH=repo_root)
    env.pop('MMPROSECO_DEBUG', None)
    return subprocess.run([sys.executable, '-m', 'mmproseco.tools.train', *args], cwd=repo_root,
                          env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize('option, field', [
    ('model.detector.bbox_head.loss_contrast.pos_iou_thr=1.5', 'pos_iou_thr'),
    ('model.detector.bbox_head.loss_contrast.temperature=0', 'temperature'),
    ('train_dataloader.dataset.pipeline.1.num_proposals=0', 'num_proposals'),
])
def test_bad_config_value_names_the_field(repo_root, tmp_path, option, field):
    # The proposals file must exist for the dataset to build; an empty pool is enough to
    # reach the pipeline and model checks.
    out = run_train(repo_root, PROSECO, '--work-dir', str(tmp_path), '--cfg-options', option)
    assert out.returncode == 2, out.stderr[-2000:]
    assert out.stderr.startswith('error:') and field in out.stderr
    assert 'Traceback' not in out.stderr


def test_missing_config_is_one_line(repo_root, tmp_path):
    out = run_train(repo_root, 'configs/nope.py', '--work-dir', str(tmp_path))
    assert out.returncode == 2 and 'does not exist' in out.stderr
    assert 'Traceback' not in out.stderr


def test_export_keeps_the_student_and_drops_the_pretraining_heads():
    state = {
        'student.backbone.conv1.weight': torch.ones(1),
        'student.bbox_head.cls_branches.0.weight': torch.ones(1),
        'student.bbox_head.reg_branches.0.weight': torch.ones(1),
        'student.bbox_head.projector.layers.0.weight': torch.ones(1),
        'student.bbox_head.predictor.layers.0.weight': torch.ones(1),
        'teacher.backbone.conv1.weight': torch.zeros(1),
    }
    kept, dropped = export_state_dict(state, 'student')
    assert sorted(kept) == ['backbone.conv1.weight', 'bbox_head.reg_branches.0.weight']
    assert torch.equal(kept['backbone.conv1.weight'], torch.ones(1))
    assert len(dropped) == 3
    with pytest.raises(ValueError, match='--source'):
        export_state_dict(state, 'nothing')


def test_config_is_formatted_once_per_content(repo_root):
    """The entry points' config gives mmengine's own text, formats it once, carries that
    through the runner's deepcopy, and formats again after a change."""
    import copy

    from mmengine.config import Config

    from mmproseco.tools.cli import load_config
    path = f'{repo_root}/configs/finetune/deformable-detr_r18-tiny_1xb8-cpu_shapes-finetune.py'
    cfg = load_config(path, work_dir='work_dirs/x')
    plain = Config.fromfile(path)
    plain.launcher, plain.work_dir = 'none', 'work_dirs/x'
    text = cfg.pretty_text
    assert text == plain.pretty_text
    copied = copy.deepcopy(cfg)
    assert copied.pretty_text is text  # the cached string, not a second yapf run
    copied.train_cfg.max_iters = 7
    assert 'max_iters=7' in copied.pretty_text
    assert copied.pretty_text == Config(copied.to_dict(), filename=path).pretty_text
    assert 'max_iters=7' not in cfg.pretty_text
