"""Importing mmproseco changes no safety default, its checkpoints load with torch's safe
loader, and a frozen backbone without weights is refused when the model is built."""
import os
import subprocess
import sys

import pytest
import torch
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.model import BaseModel
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import Dataset

import mmproseco  # noqa: F401  (registers the models)

PAPER_SIZE_FROZEN = ['configs/proseco/proseco_deformable-detr_r50_8xb4-50e_coco.py',
                     'configs/proseco/sce_deformable-detr_r50_8xb4-50e_coco.py']


def test_import_changes_no_torch_or_dvc_setting():
    """Importing mmproseco sets or changes no variable: neither torch's safe-loading switch
    nor DVC's telemetry switch, nor anything else. Its dependencies are imported first, since
    they may set their own (OpenCV prepends to LD_LIBRARY_PATH)."""
    code = ('import os, cv2, torch, mmengine.runner, mmdet.models; before = dict(os.environ); '
            'import mmproseco; '
            'changed = set(os.environ.items()) ^ set(before.items()); '
            'assert not changed, changed')
    subprocess.run([sys.executable, '-c', code], check=True)


class TinyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode='loss'):
        return dict(loss=self.linear(torch.stack(inputs)).pow(2).mean())


class Points(Dataset):

    def __len__(self):
        return 8

    def __getitem__(self, index):
        return dict(inputs=torch.full((2, ), float(index)))


def tiny_runner(work_dir, max_iters, resume=False):
    init_default_scope('mmdet')
    return Runner(
        model=TinyModel(), work_dir=str(work_dir), experiment_name=f'run{max_iters}{resume}',
        train_dataloader=dict(dataset=Points(), batch_size=2,
                              collate_fn=dict(type='pseudo_collate'),
                              sampler=dict(type='DefaultSampler', shuffle=True)),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        param_scheduler=dict(type='CosineAnnealingLR', by_epoch=False, T_max=8),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=4, by_epoch=False),
                           logger=dict(type='LoggerHook', interval=1),
                           weights_only_checkpoint=dict(type='WeightsOnlyCheckpointHook')),
        resume=resume, randomness=dict(seed=0))


def test_checkpoint_loads_weights_only_and_resumes_the_message_hub(tmp_path):
    runner = tiny_runner(tmp_path, 4)
    runner.train()
    saved_losses = runner.message_hub.get_scalar('train/loss').data
    checkpoint = torch.load(tmp_path / 'iter_4.pth', weights_only=True)
    assert checkpoint['meta']['iter'] == 4
    # mmengine's own format is what the safe loader refuses (the reason for the hook).
    torch.save(dict(checkpoint, message_hub=runner.message_hub.state_dict()),
               tmp_path / 'raw.pth')
    with pytest.raises(Exception, match='getattr|HistoryBuffer'):
        torch.load(tmp_path / 'raw.pth', weights_only=True)

    resumed = tiny_runner(tmp_path, 8, resume=True)
    resumed.load_or_resume()
    history = resumed.message_hub.get_scalar('train/loss').data
    assert [h.tolist() for h in history] == [s.tolist() for s in saved_losses]
    resumed.train()
    assert resumed.iter == 8


@pytest.mark.parametrize('config', PAPER_SIZE_FROZEN + [
    'configs/_base_/models/detreg_deformable-detr_r50.py'])
def test_frozen_backbone_without_weights_is_refused(config, repo_root):
    cfg = Config.fromfile(os.path.join(repo_root, config))
    init_default_scope('mmdet')
    with pytest.raises(ValueError, match='init_cfg is None'):
        MODELS.build(cfg.model)
