"""The fine-tuning step the one-process benchmarks time: the CPU-size shapes fine-tuning
model, fixed batches of the full train split, and one optimizer step over them."""
import tempfile

import torch
from mmengine.config import Config
from mmengine.runner import Runner

FINETUNE = 'configs/finetune/deformable-detr_r18-tiny_1xb8-cpu_shapes-finetune.py'


def model_and_batches(num_batches=6, cfg_options=None):
    """The config's model in train mode, ``num_batches`` preprocessed batches of the full
    train split, and the parameters that train; ``cfg_options`` (a dict, as
    ``--cfg-options`` gives it) changes the config first."""
    cfg = Config.fromfile(FINETUNE)
    cfg.merge_from_dict(cfg_options or {})
    cfg.train_dataloader.dataset.ann_file = 'data/shapes/annotations/train.json'
    cfg.work_dir = tempfile.mkdtemp(prefix='bench_finetune_step_')
    cfg.log_level = 'WARNING'
    runner = Runner.from_cfg(cfg)
    model = runner.model.train()
    loader = iter(runner.build_dataloader(cfg.train_dataloader))
    batches = [model.data_preprocessor(next(loader), True) for _ in range(num_batches)]
    return model, batches, [p for p in model.parameters() if p.requires_grad]


def train_step(model, batch, params, optimizer, clip):
    """Forward, backward, gradient clip (``clip``: kwargs of ``clip_grad_norm_``), step."""
    losses = model(**batch, mode='loss')
    sum(sum(v) if isinstance(v, list) else v for k, v in losses.items() if 'loss' in k).backward()
    torch.nn.utils.clip_grad_norm_(params, **clip)
    optimizer.step()
    optimizer.zero_grad()
