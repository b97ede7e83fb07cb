"""Tests of TeacherEMAHook: closed-form EMA, schedules, frozen copies, logged distances and
bit-exact resume of two model kinds.

The closed-form tests drive the hook's entry points with a minimal stand-in for the runner
(the hook reads ``model``, ``iter``, ``max_iters``, ``hooks``, ``message_hub`` and
``logger``); the other tests train with a real mmengine ``Runner``.
"""
import copy
import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmdet.registry import HOOKS, MODELS
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import HorizontalBoxes
from mmengine.logging import MessageHub, MMLogger
from mmengine.model import BaseModel
from mmengine.runner import Runner
from mmengine.structures import InstanceData

import mmproseco  # noqa: F401  (registers TeacherEMAHook)
from mmproseco.engine.hooks import TeacherEMAHook, momentum_distances, momentum_for_run_length
from mmproseco.models.utils import MomentumModelMixin
from mmproseco.pipeline.scalars import read_scalars


class ToyTeacherStudent(BaseModel, MomentumModelMixin):
    """Student regressor (body with batch norm + a predictor) and an independently
    initialised teacher of the body only: the predictor is online-only."""

    def __init__(self, frozen_teacher=True):
        super().__init__()
        self.student = nn.ModuleDict(dict(
            body=nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4), nn.Linear(4, 1)),
            predictor=nn.Linear(1, 1)))
        self.teacher = nn.ModuleDict(dict(
            body=nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))))
        self.teacher.requires_grad_(not frozen_teacher)

    def momentum_pairs(self):
        return [(self.student, self.teacher)]

    def forward(self, inputs, labels=None, mode='tensor'):
        prediction = self.student['predictor'](self.student['body'](inputs))
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


def make_runner(model, dataset, work_dir, max_iters, hook_cfg, resume=False,
                collate='default_collate', log_interval=2, load_from=None):
    return Runner(
        model=model,
        work_dir=str(work_dir),
        experiment_name=f'run_{work_dir.name}_{max_iters}_{resume}',
        train_dataloader=dict(
            dataset=dataset,
            sampler=dict(type='DefaultSampler', shuffle=False),
            collate_fn=dict(type=collate),
            batch_size=2,
            num_workers=0),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9)),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        custom_hooks=[dict(type='TeacherEMAHook', **hook_cfg)],
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=log_interval),
            checkpoint=dict(type='CheckpointHook', interval=2, by_epoch=False),
            weights_only_checkpoint=dict(type='WeightsOnlyCheckpointHook')),
        log_processor=dict(by_epoch=False),
        default_scope='mmdet',
        resume=resume,
        load_from=load_from,
        randomness=dict(seed=0))


def run_training(work_dir, max_iters, resume=False, **hook_cfg):
    torch.manual_seed(0)  # same initial weights in every run
    runner = make_runner(ToyTeacherStudent(), ToyDataset(), work_dir, max_iters, hook_cfg,
                         resume)
    runner.train()
    return runner


def state(module):
    return {k: v.clone() for k, v in module.state_dict().items()}


def stand_in_runner(model, iteration, max_iters):
    return SimpleNamespace(model=model, iter=iteration, max_iters=max_iters, hooks=[],
                           message_hub=MessageHub.get_instance('teacher_ema_test'),
                           logger=MMLogger.get_current_instance())


def ema_after(hook, model, num_iters, max_iters):
    for iteration in range(num_iters):
        hook.after_train_iter(stand_in_runner(model, iteration, max_iters), batch_idx=iteration)


@pytest.mark.parametrize('schedule, interval', [('constant', 1), ('cosine', 1), ('cosine', 3)])
def test_closed_form_with_constant_student(schedule, interval):
    model = ToyTeacherStudent().double()
    hook = TeacherEMAHook(momentum=0.9, interval=interval, momentum_schedule=schedule)
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

    product = math.prod(momentum(k) for k in range(num_iters) if (k + 1) % interval == 0)
    if schedule == 'constant':
        assert product == pytest.approx(0.9**7)
    student_body = dict(model.student['body'].named_parameters())
    start_body = dict(start['body'].named_parameters())
    for name, t_n in model.teacher['body'].named_parameters():
        torch.testing.assert_close(
            t_n, product * start_body[name] + (1 - product) * student_body[name],
            rtol=1e-12, atol=1e-12)
    # Buffers (update_buffers=False) are copies of the student's.
    for t_buf, s_buf in zip(model.teacher['body'].buffers(), model.student['body'].buffers()):
        assert torch.equal(t_buf, s_buf)


def test_cosine_schedule_values():
    hook = TeacherEMAHook(momentum=0.96, momentum_schedule='cosine')
    hook.before_train(stand_in_runner(ToyTeacherStudent(), 0, 100))
    for k in (0, 13, 25, 50, 77, 100):
        formula = 1 - (1 - 0.96) * (math.cos(math.pi * k / 100) + 1) / 2
        assert hook.momentum_at(k, 100) == pytest.approx(formula, abs=1e-15)
    assert hook.momentum_at(0, 100) == 0.96 and hook.momentum_at(100, 100) == 1.0
    assert hook.momentum_at(50, 100) == pytest.approx(0.98)
    constant = TeacherEMAHook(momentum=0.96, momentum_schedule='constant')
    constant.before_train(stand_in_runner(ToyTeacherStudent(), 0, 100))
    assert {constant.momentum_at(k, 100) for k in (0, 50, 99)} == {0.96}


def test_auto_momentum_follows_the_run_length():
    # 1 - m0 = 10 / T, clipped to [1e-4, 0.1]
    assert momentum_for_run_length(200) == pytest.approx(0.95)
    assert momentum_for_run_length(1000) == pytest.approx(0.99)
    assert momentum_for_run_length(20) == pytest.approx(0.9)
    assert momentum_for_run_length(10**7) == pytest.approx(0.9999)
    hook = TeacherEMAHook(interval=2)  # the defaults: 'auto', cosine
    hook.before_train(stand_in_runner(ToyTeacherStudent(), 0, 800))
    assert hook.base_momentum == pytest.approx(1 - 10 / 400)  # 400 updates in 800 iters
    assert hook.momentum_at(800, 800) == 1.0


def test_cosine_reaches_end_momentum_and_buffers_averaged():
    model = ToyTeacherStudent().double()
    hook = TeacherEMAHook(momentum=0.5, momentum_schedule='cosine', update_buffers=True)
    hook.before_train(stand_in_runner(model, 0, 4))
    with torch.no_grad():
        model.student['body'][1].running_mean.fill_(2.0)
        model.teacher['body'][1].running_mean.fill_(0.0)
    # k = 0 uses m0 = 0.5; the buffer is averaged like a parameter.
    ema_after(hook, model, 1, 4)
    torch.testing.assert_close(model.teacher['body'][1].running_mean,
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
    model = run_training(tmp_path, max_iters=3, momentum=1.0).model
    for name, value in model.teacher.state_dict().items():
        if name.endswith('num_batches_tracked'):
            continue
        if 'running' not in name:
            assert torch.equal(value, initial_student[name]), name
    assert all(not p.requires_grad for p in model.teacher.parameters())
    assert all(p.grad is None for p in model.teacher.parameters())
    assert any(not torch.equal(p, initial_student[n])
               for n, p in model.student.named_parameters())


def test_distances_are_logged_and_match_their_definition(tmp_path):
    torch.manual_seed(0)
    initial = {k: v.clone() for k, v in ToyTeacherStudent().student['body'].state_dict().items()}
    runner = run_training(tmp_path, max_iters=4, momentum=0.8, momentum_schedule='constant')
    model = runner.model
    teacher = dict(model.teacher['body'].named_parameters())
    student = dict(model.student['body'].named_parameters())

    def distance(a, b):
        return math.sqrt(sum(float(((a[n] - b[n])**2).sum()) for n in teacher))

    expected = dict(teacher_student_distance=distance(teacher, student),
                    teacher_init_distance=distance(teacher, initial),
                    student_init_distance=distance(student, initial))
    final = momentum_distances(runner)
    assert final == pytest.approx(expected, rel=1e-6)
    assert min(final.values()) > 0
    # Every logging interval (2) the scalars reach scalars.json, the last ones final.
    logs = read_scalars(str(tmp_path))
    logged = [log for log in logs if 'teacher_student_distance' in log]
    assert [log['iter'] for log in logged] == [2, 4]
    assert logged[-1]['ema_momentum'] == 0.8
    for name, value in expected.items():
        assert logged[-1][name] == pytest.approx(value, rel=1e-4)
    checkpoint = torch.load(tmp_path / 'iter_4.pth', map_location='cpu', weights_only=True)
    assert checkpoint['meta']['momentum_distances'] == pytest.approx(expected, rel=1e-6)


def test_resume_is_bit_exact(tmp_path):
    ema = dict(momentum=0.7, momentum_schedule='constant')
    uninterrupted = run_training(tmp_path / 'full', max_iters=4, **ema)
    first_half = run_training(tmp_path / 'split', max_iters=2, **ema).model
    checkpoint = torch.load(tmp_path / 'split' / 'iter_2.pth', map_location='cpu',
                            weights_only=True)
    for name, value in state(first_half.teacher).items():
        assert torch.equal(checkpoint['state_dict'][f'teacher.{name}'], value)

    resumed = run_training(tmp_path / 'split', max_iters=4, resume=True, **ema)
    assert all(not p.requires_grad for p in resumed.model.teacher.parameters())
    expected = state(uninterrupted.model.teacher)
    for name, value in state(resumed.model.teacher).items():
        assert torch.equal(value, expected[name]), name
    # The teacher really moved during the second half.
    assert any(not torch.equal(value, state(first_half.teacher)[name])
               for name, value in expected.items())
    # The distances from init are measured from iteration 0's weights after a resume too.
    assert momentum_distances(resumed) == momentum_distances(uninterrupted)


class CropDataset(torch.utils.data.Dataset):
    """Images with 2 or 3 labelled boxes: the object-crop data format of CropEmbedder."""

    def __init__(self, num_images=6):
        rng = np.random.default_rng(0)
        self.items = []
        for index in range(num_images):
            labels = [index % 3, (index + 1) % 3] + [2] * (index % 2)
            boxes = [[2 + 10 * i, 3, 14 + 10 * i, 15] for i in range(len(labels))]
            sample = DetDataSample(metainfo=dict(crop_role='train'))
            sample.gt_instances = InstanceData(
                bboxes=HorizontalBoxes(torch.tensor(boxes, dtype=torch.float32)),
                labels=torch.tensor(labels))
            image = torch.from_numpy(rng.integers(0, 255, (3, 40, 40), dtype=np.uint8))
            self.items.append(dict(inputs=image, data_samples=sample))

    def __len__(self):
        return len(self.items)

    def __getitem__(self, index):
        return copy.deepcopy(self.items[index])


def train_crop_embedder(work_dir, resume_from=None):
    torch.manual_seed(0)
    loss = dict(type='RankedContrastiveLoss', classes=('a', 'b', 'c'),
                class_ranks={'a': [['b']]}, temperatures=(0.1, 0.3))
    model = MODELS.build(dict(
        type='CropEmbedder',
        # Deterministic views of square boxes: mmengine does not restore the random state on
        # resume, so random views would differ from the uninterrupted run's.
        data_preprocessor=dict(
            type='ObjectCropDataPreprocessor', crop_size=16, num_views=2,
            augment=dict(rrc_scale=(1.0, 1.0), rrc_ratio=(1.0, 1.0), flip_prob=0.0,
                         jitter_prob=0.0, grayscale_prob=0.0)),
        backbone=dict(type='CifarResNet', depth=18, base_channels=4, out_indices=(3, ),
                      norm_eval=False, init_cfg=None),
        head=dict(type='ContrastiveEmbeddingHead', in_channels=32, out_channels=8, loss=loss),
        key_encoder=dict(queue_size=7)))
    runner = make_runner(model, CropDataset(), work_dir, 4,
                         dict(momentum=0.8, momentum_schedule='cosine'),
                         resume=resume_from is not None, collate='pseudo_collate',
                         load_from=resume_from)
    runner.train()
    return runner.model


def test_crop_embedder_key_encoder_and_queue_resume_bit_exact(tmp_path):
    """A second model kind: MoCo's key encoder (two momentum pairs) and its queue. A 4-iteration
    run with a cosine momentum, stopped after its checkpoint at iteration 2 and resumed from
    it, ends as the uninterrupted run."""
    uninterrupted = train_crop_embedder(tmp_path / 'full')
    first_half = torch.load(tmp_path / 'full' / 'iter_2.pth', map_location='cpu',
                            weights_only=True)['state_dict']
    resumed = train_crop_embedder(tmp_path / 'resumed', str(tmp_path / 'full' / 'iter_2.pth'))
    expected = state(uninterrupted)
    key_names = [n for n in expected if n.startswith(('key_', 'queue.'))]
    assert any(n.startswith('key_projector.') for n in key_names)
    assert {'queue.features', 'queue.labels', 'queue.ptr', 'queue.num_filled'} <= set(key_names)
    for name, value in state(resumed).items():
        assert torch.equal(value, expected[name]), name
    assert any(not torch.equal(first_half[n], expected[n]) for n in key_names
               if n.startswith('key_backbone.') and 'num_batches' not in n)
    assert int(resumed.queue.num_filled) == 7  # more than 7 keys went through


@pytest.mark.parametrize('cfg', [
    dict(momentum=1.5),
    dict(momentum=-0.1),
    dict(momentum='fast'),
    dict(end_momentum=2.0),
    dict(interval=0),
    dict(momentum_schedule='linear'),
    dict(log_interval=0),
])
def test_bad_config_raises(cfg):
    field = next(iter(cfg))
    with pytest.raises(ValueError, match=field):
        HOOKS.build(dict(type='TeacherEMAHook', **cfg))


def test_model_contract_is_checked():
    hook = TeacherEMAHook()
    with pytest.raises(RuntimeError, match='frozen'):
        hook.before_train(stand_in_runner(ToyTeacherStudent(frozen_teacher=False), 0, 10))
    with pytest.raises(TypeError, match='MomentumModelMixin'):
        hook.before_train(stand_in_runner(nn.Linear(2, 2), 0, 10))
    model = ToyTeacherStudent()
    model.teacher['extra'] = nn.Linear(1, 1).requires_grad_(False)  # not in the student
    with pytest.raises(RuntimeError, match='extra'):
        hook.before_train(stand_in_runner(model, 0, 10))
