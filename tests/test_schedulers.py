"""RelativeMultiStepLR: the LR drop lands at its fraction of whatever run length a stage sets."""
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import Dataset

import mmproseco  # noqa: F401  (registers the scheduler)
from mmproseco.engine.schedulers import RelativeMultiStepLR

FINETUNE = 'configs/finetune/deformable-detr_r18-tiny_1xb8-cpu_shapes-finetune.py'


class Points(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, index):
        return torch.full((2, ), float(index))


class Regressor(nn.Module):
    """The smallest model the Runner trains: a linear map fitted to zero."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode='loss'):
        return dict(loss=self.linear(inputs).pow(2).mean())

    def train_step(self, data, optim_wrapper):
        loss = self(torch.stack(data) if isinstance(data, list) else data)['loss']
        optim_wrapper.update_params(loss)
        return dict(loss=loss)


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
