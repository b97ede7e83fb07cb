"""Tests of TeacherEMAHook: closed-form EMA, frozen teacher, exact resume.

The closed-form tests drive the hook's two entry points with a minimal
stand-in for the runner (the hook only reads ``model``, ``iter``,
``max_iters`` and ``logger``); the other tests train a toy model with a real
mmengine ``Runner``.
"""
import copy
import math
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn
from mmdet.registry import HOOKS
from mmengine.logging import MMLogger
from mmengine.model import BaseModel
from mmengine.runner import Runner

import mmproseco  # noqa: F401  (registers TeacherEMAHook)
from mmproseco.engine.hooks import TeacherEMAHook


class ToyTeacherStudent(BaseModel):
    """Student regressor with batch norm and an independently initialised
    teacher of the same structure."""

    def __init__(self):
        super().__init__()
        self.student = nn.Sequential(
            nn.Linear(2, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))
        self.teacher = nn.Sequential(
            nn.Linear(2, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))

    def forward(self, inputs, labels=None, mode='tensor'):
        prediction = self.student(inputs)
        if mode == 'loss':
            return dict(loss=((prediction - labels)**2).mean())
        return prediction


class ToyDataset(torch.utils.data.Dataset):

    def __init__(self):
        gen = torch.Generator().manual_seed(0)
        self.inputs = torch.randn(8, 2, generator=gen)
        self.labels = self.inputs.sum(1, keepdim=True)

    def __len__(self):
        return len(self.inputs)

    def __getitem__(self, index):
        return dict(inputs=self.inputs[index], labels=self.labels[index])


def run_training(work_dir, max_iters, resume=False, **hook_cfg):
    torch.manual_seed(0)  # same initial weights in every run
    model = ToyTeacherStudent()
    runner = Runner(
        model=model,
        work_dir=str(work_dir),
        experiment_name=f'toy_{work_dir.name}_{max_iters}_{resume}',
        train_dataloader=dict(
            dataset=ToyDataset(),
            sampler=dict(type='DefaultSampler', shuffle=False),
            collate_fn=dict(type='default_collate'),
            batch_size=2,
            num_workers=0),
        optim_wrapper=dict(
            optimizer=dict(type='SGD', lr=0.05, momentum=0.9)),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        custom_hooks=[dict(type='TeacherEMAHook', **hook_cfg)],
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=2,
                            by_epoch=False),
            weights_only_checkpoint=dict(type='WeightsOnlyCheckpointHook')),
        default_scope='mmdet',
        resume=resume,
        randomness=dict(seed=0))
    runner.train()
    return runner.model


def teacher_state(model):
    return {k: v.clone() for k, v in model.teacher.state_dict().items()}


def stand_in_runner(model, iteration, max_iters):
    return SimpleNamespace(
        model=model,
        iter=iteration,
        max_iters=max_iters,
        logger=MMLogger.get_current_instance())


def ema_after(hook, model, num_iters, max_iters):
    for iteration in range(num_iters):
        hook.after_train_iter(
            stand_in_runner(model, iteration, max_iters), batch_idx=iteration)


@pytest.mark.parametrize('schedule, interval', [('constant', 1),
                                                ('cosine', 1),
                                                ('cosine', 3)])
def test_closed_form_with_constant_student(schedule, interval):
    model = ToyTeacherStudent().double()
    hook = TeacherEMAHook(
        momentum=0.9, interval=interval, momentum_schedule=schedule)
    hook.before_train(stand_in_runner(model, 0, 10))
    # Start from a teacher different from the (constant) student.
    with torch.no_grad():
        for param in model.teacher.parameters():
            param.normal_()
    start = copy.deepcopy(model.teacher)
    num_iters, max_iters = 7, 10
    ema_after(hook, model, num_iters, max_iters)

    # t_n = P * t_0 + (1 - P) * s with P the product of the momenta used.
    def momentum(k):
        if schedule == 'constant':
            return 0.9
        return 1 - (1 - 0.9) * (math.cos(math.pi * k / max_iters) + 1) / 2

    product = math.prod(
        momentum(k) for k in range(num_iters) if (k + 1) % interval == 0)
    if schedule == 'constant':
        assert product == pytest.approx(0.9**7)
    for t_n, t_0, s in zip(model.teacher.parameters(), start.parameters(),
                           model.student.parameters()):
        torch.testing.assert_close(
            t_n, product * t_0 + (1 - product) * s, rtol=1e-12, atol=1e-12)
    # Buffers (update_buffers=False) are copies of the student's.
    for t_buf, s_buf in zip(model.teacher.buffers(), model.student.buffers()):
        assert torch.equal(t_buf, s_buf)


def test_cosine_reaches_end_momentum_and_buffers_averaged():
    model = ToyTeacherStudent().double()
    hook = TeacherEMAHook(
        momentum=0.5, momentum_schedule='cosine', update_buffers=True)
    hook.before_train(stand_in_runner(model, 0, 4))
    with torch.no_grad():
        model.student[1].running_mean.fill_(2.0)
        model.teacher[1].running_mean.fill_(0.0)
    # k = 0 uses m0 = 0.5; the buffer is averaged like a parameter.
    ema_after(hook, model, 1, 4)
    torch.testing.assert_close(model.teacher[1].running_mean,
                               torch.full((4, ), 1.0, dtype=torch.double))
    # At k = K the momentum is 1: the teacher no longer moves.
    frozen = copy.deepcopy(model.teacher.state_dict())
    hook.after_train_iter(stand_in_runner(model, 4, 4), batch_idx=4)
    for name, value in model.teacher.state_dict().items():
        assert torch.equal(value, frozen[name])


def test_copy_at_start_and_teacher_frozen(tmp_path):
    torch.manual_seed(0)
    initial_student = copy.deepcopy(ToyTeacherStudent().student.state_dict())
    # momentum 1: after the initial copy the teacher never moves again.
    model = run_training(tmp_path, max_iters=3, momentum=1.0)
    for name, value in model.teacher.state_dict().items():
        if name.endswith('num_batches_tracked'):
            continue
        if 'running' not in name:
            assert torch.equal(value, initial_student[name]), name
    assert all(not p.requires_grad for p in model.teacher.parameters())
    assert all(p.grad is None for p in model.teacher.parameters())
    assert any(not torch.equal(p, initial_student[n])
               for n, p in model.student.named_parameters())


def test_resume_is_bit_exact(tmp_path):
    uninterrupted = run_training(tmp_path / 'full', max_iters=4,
                                 momentum=0.7)
    first_half = run_training(tmp_path / 'split', max_iters=2, momentum=0.7)
    checkpoint = torch.load(
        tmp_path / 'split' / 'iter_2.pth', map_location='cpu',
        weights_only=True)
    for name, value in teacher_state(first_half).items():
        assert torch.equal(checkpoint['state_dict'][f'teacher.{name}'], value)

    resumed = run_training(
        tmp_path / 'split', max_iters=4, resume=True, momentum=0.7)
    assert all(not p.requires_grad for p in resumed.teacher.parameters())
    expected = teacher_state(uninterrupted)
    for name, value in teacher_state(resumed).items():
        assert torch.equal(value, expected[name]), name
    # The teacher really moved during the second half.
    assert any(not torch.equal(value, teacher_state(first_half)[name])
               for name, value in expected.items())


@pytest.mark.parametrize('cfg', [
    dict(momentum=1.5),
    dict(momentum=-0.1),
    dict(end_momentum=2.0),
    dict(interval=0),
    dict(momentum_schedule='linear'),
])
def test_bad_config_raises(cfg):
    field = next(iter(cfg))
    with pytest.raises(ValueError, match=field):
        HOOKS.build(dict(type='TeacherEMAHook', **cfg))
