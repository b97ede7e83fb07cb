"""The fine-tuning schedule: RelativeMultiStepLR's LR drop lands at its fraction of whatever
run length a stage sets, and the stage's validations (equal intervals, or counted from that
drop through mmengine's dynamic intervals) fall on the iterations the real Runner validates."""
import pytest
import torch
from mmengine.config import Config
from mmengine.evaluator import BaseMetric
from mmengine.hooks import Hook
from mmengine.optim import OptimWrapper
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import Dataset

import mmproseco  # noqa: F401  (registers the scheduler)
from mmproseco.engine.schedulers import RelativeMultiStepLR
from mmproseco.pipeline.stages import validation_options

FINETUNE = 'configs/finetune/deformable-detr_r18-tiny_1xb8-cpu_shapes-finetune.py'


class Points(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, index):
        return torch.full((2, ), float(index))


class Regressor(nn.Module):
    """The smallest model the Runner trains and validates: a linear map fitted to zero."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode='loss'):
        return dict(loss=self.linear(inputs).pow(2).mean())

    def train_step(self, data, optim_wrapper):
        loss = self(torch.stack(data) if isinstance(data, list) else data)['loss']
        optim_wrapper.update_params(loss)
        return dict(loss=loss)

    def val_step(self, data):
        return [0.0]


def lr_per_step(scheduler, optimizer, steps):
    lrs = []
    for _ in range(steps):
        lrs.append(optimizer.param_groups[0]['lr'])
        optimizer.step()
        scheduler.step()
    return lrs


@pytest.mark.parametrize('end,ratios,begin', [(1350, [0.75], 0), (20, [0.5, 0.9], 0),
                                              (100, [0.25], 40)])
def test_the_lr_is_the_closed_form_step_function_of_the_span(end, ratios, begin):
    optimizer = OptimWrapper(torch.optim.SGD(nn.Linear(2, 1).parameters(), lr=0.4))
    scheduler = RelativeMultiStepLR(optimizer, milestone_ratios=ratios, gamma=0.1,
                                    begin=begin, end=end, by_epoch=False)
    milestones = [begin + round(r * (end - begin)) for r in ratios]
    expected = [0.4 * 0.1**sum(step >= m for m in milestones) for step in range(end)]
    assert lr_per_step(scheduler, optimizer, end) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize('kwargs,message', [
    (dict(milestone_ratios=[0.5]), 'finite end'),
    (dict(milestone_ratios=[0.9, 0.5], end=10), 'increase within'),
    (dict(milestone_ratios=[1.0], end=10), 'increase within'),
])
def test_an_open_span_or_ratios_outside_it_are_refused(kwargs, message):
    optimizer = OptimWrapper(torch.optim.SGD(nn.Linear(2, 1).parameters(), lr=0.1))
    with pytest.raises(ValueError, match=message):
        RelativeMultiStepLR(optimizer, by_epoch=False, **kwargs)


@pytest.mark.parametrize('max_iters', [20, 40])
def test_the_runner_ends_the_span_at_max_iters(tmp_path, max_iters):
    runner = Runner(
        model=Regressor(), work_dir=str(tmp_path),
        train_dataloader=dict(dataset=Points(), batch_size=4,
                              sampler=dict(type='InfiniteSampler', shuffle=False)),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.2)),
        param_scheduler=[dict(type='mmdet.RelativeMultiStepLR', milestone_ratios=[0.75],
                              by_epoch=False)],
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=10**6)))
    runner.train()
    assert runner.param_schedulers[0].milestones == {round(0.75 * max_iters): 1}
    assert runner.optim_wrapper.get_lr()['lr'] == [pytest.approx(0.02)]


def test_the_finetuning_recipe_drops_the_lr_at_two_thirds_of_the_run():
    schedule = Config.fromfile(FINETUNE).param_scheduler
    assert schedule == [dict(type='RelativeMultiStepLR', milestone_ratios=[2 / 3], gamma=0.1,
                             by_epoch=False)]


class NoMetric(BaseMetric):
    def process(self, data_batch, data_samples):
        self.results.append(0.0)

    def compute_metrics(self, results):
        return dict(score=0.0)


class RecordValidations(Hook):
    def __init__(self):
        self.iters = []

    def after_val_epoch(self, runner, metrics=None):
        self.iters.append(runner.iter)


def validated_iters(tmp_path, max_iters, options):
    record = RecordValidations()
    loop = {k.split('.', 1)[1]: v for k, v in options.items()}
    runner = Runner(
        model=Regressor(), work_dir=str(tmp_path),
        train_dataloader=dict(dataset=Points(), batch_size=2,
                              sampler=dict(type='InfiniteSampler', shuffle=False)),
        val_dataloader=dict(dataset=Points(), batch_size=2,
                            sampler=dict(type='DefaultSampler', shuffle=False)),
        val_evaluator=dict(type=NoMetric), val_cfg=dict(),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=False, max_iters=max_iters, **loop),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=10**6)),
        custom_hooks=[record])
    runner.train()
    return record.iters


def test_a_count_validates_at_equal_intervals(tmp_path):
    options = validation_options(FINETUNE, 12, 4)
    assert options == {'train_cfg.val_interval': 3}
    assert validated_iters(tmp_path, 12, options) == [3, 6, 9, 12]


@pytest.mark.parametrize('iters,before,after', [(6, 2, 2), (30, 4, 5), (1500, 4, 20)])
def test_validations_count_from_the_configs_lr_drop(tmp_path, iters, before, after):
    options = validation_options(FINETUNE, iters, dict(before_drop=before, after_drop=after))
    drop = round(2 / 3 * iters)  # the config's lr_drop_at, rounded as RelativeMultiStepLR does
    expected = ([drop * (k + 1) // before for k in range(before)]
                + [drop + (iters - drop) * (k + 1) // after for k in range(after)])
    assert validated_iters(tmp_path, iters, options) == expected
    assert len(expected) == before + after and expected[before - 1] == drop


@pytest.mark.parametrize('iters,validations', [
    (1500, dict(before_drop=3, after_drop=20)),  # 1,000 into 3
    (1500, dict(before_drop=4, after_drop=30)),  # 500 into 30
    (100, dict(before_drop=1, after_drop=3)),  # every 11 after the drop at 67: not from it
    (10, 4)])
def test_schedules_that_do_not_split_the_run_are_refused(iters, validations):
    with pytest.raises(ValueError, match='params.yaml'):
        validation_options(FINETUNE, iters, validations)


def test_counting_from_a_drop_needs_a_config_that_drops(tmp_path):
    config = tmp_path / 'constant.py'
    config.write_text('max_iters = 10\n')
    with pytest.raises(ValueError, match='no lr_drop_at'):
        validation_options(str(config), 30, dict(before_drop=2, after_drop=2))
