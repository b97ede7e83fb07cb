"""TeacherEMAHook under DistributedDataParallel: two CPU processes (torchrun, gloo) train the
tiny ProSeCo config with ``gather_keys=True`` through ``tools/train.py --launcher pytorch``,
and end with the same teacher on both ranks.

The two processes share the machine's cores: each runs one thread (OMP_NUM_THREADS=1).
"""
import os
import subprocess
import sys
import textwrap

import pytest
import torch

pytestmark = pytest.mark.e2e
PROSECO = 'configs/proseco/proseco_deformable-detr_r18-tiny_1xb8-cpu_shapes.py'

# Registered in the training processes through custom_imports: saves what each rank holds.
DUMP_HOOK = '''
import os.path as osp

import torch
from mmdet.registry import HOOKS
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper


@HOOKS.register_module()
class SaveStatePerRank(Hook):
    priority = 'LOWEST'

    def after_train(self, runner):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        torch.save(dict(teacher=model.teacher.state_dict(), student=model.student.state_dict(),
                        wrapped=type(runner.model).__name__),
                   osp.join(runner.work_dir, f'rank{get_rank()}.pth'))
'''


def run(cmd, cwd, env=None, timeout=300):
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                         timeout=timeout)
    assert out.returncode == 0, f'{cmd}\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}'
    return out.stdout + out.stderr


def test_teachers_are_identical_on_both_ranks(tmp_path, repo_root):
    data = tmp_path / 'data'
    # This checkout's package, and the dump hook of this test.
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1',
               PYTHONPATH=os.pathsep.join([repo_root, str(tmp_path)]))
    run([sys.executable, 'tools/prepare_data.py', '--out', str(data), '--datasets', 'shapes',
         '--shapes-sizes', '8', '2', '2'], repo_root, env)
    shapes = data / 'shapes'
    run([sys.executable, 'tools/selective_search.py', '--ann',
         str(shapes / 'annotations' / 'unlabeled.json'), '--img-dir', str(shapes / 'images'),
         '--out', str(tmp_path / 'proposals'), '--no-progress'], repo_root, env)
    (tmp_path / 'rank_dump.py').write_text(DUMP_HOOK)
    config = tmp_path / 'proseco_ddp.py'
    config.write_text(textwrap.dedent(f'''
        _base_ = '{repo_root}/{PROSECO}'
        custom_imports = dict(imports=['mmproseco', 'rank_dump'], allow_failed_imports=False)
        # m = 0.5: the teacher moves far from its start in 3 steps
        custom_hooks = [dict(type='TeacherEMAHook', momentum=0.5, momentum_schedule='constant'),
                        dict(type='SaveStatePerRank')]
        model = dict(detector=dict(num_queries=10, bbox_head=dict(
            loss_contrast=dict(gather_keys=True))))
        train_dataloader = dict(
            batch_size=2, num_workers=0, persistent_workers=False,
            dataset=dict(data_root='{shapes}/', ann_file='annotations/unlabeled.json',
                         data_prefix=dict(img='images/'),
                         proposal_file='{tmp_path}/proposals/proposals.npz'))
        train_cfg = dict(max_iters=3)
        default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=3))
        env_cfg = dict(dist_cfg=dict(backend='gloo'))
        '''))
    work = tmp_path / 'work'
    log = run([sys.executable, '-m', 'torch.distributed.run', '--standalone',
               '--nproc_per_node=2', 'tools/train.py', str(config), '--launcher', 'pytorch',
               '--work-dir', str(work)], repo_root, env)
    assert 'TeacherEMAHook: 1 momentum copies' in log
    ranks = [torch.load(work / f'rank{r}.pth', map_location='cpu', weights_only=True)
             for r in (0, 1)]
    assert ranks[0]['wrapped'] == ranks[1]['wrapped'] == 'MMDistributedDataParallel'
    teacher0, teacher1 = ranks[0]['teacher'], ranks[1]['teacher']
    assert teacher0.keys() == teacher1.keys()
    for name, value in teacher0.items():
        assert torch.equal(value, teacher1[name]), name
    # The teacher moved with the student and is not a copy of it.
    checkpoint = torch.load(work / 'iter_3.pth', map_location='cpu', weights_only=True)
    distances = checkpoint['meta']['momentum_distances']
    assert distances['teacher_init_distance'] > 0 and distances['teacher_student_distance'] > 0
