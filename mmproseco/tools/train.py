"""Train a model from a config: mmdet's ``tools/train.py`` contract.

``mim train mmproseco CONFIG``, ``python tools/train.py CONFIG`` and
``python -m mmproseco.tools.train CONFIG`` all run this. Multi-GPU and multi-node runs go
through mmengine's launchers: ``torchrun --nproc_per_node=8 tools/train.py CONFIG
--launcher pytorch`` or ``srun ... tools/train.py CONFIG --launcher slurm``.
"""
import argparse

import torch
from mmengine.registry import RUNNERS
from mmengine.runner import Runner, find_latest_checkpoint

from mmproseco.tools.cli import check_checkpoint, load_config, parse_with_common_args, run_cli


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a model with mmproseco')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision')
    parser.add_argument('--auto-scale-lr', action='store_true', help='scale the LR by batch size')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from this checkpoint, or from the latest one in the work dir if no path')
    return parse_with_common_args(parser, argv)


def use_cpu_process_group(cfg):
    """Make ``--launcher pytorch`` work without CUDA (gloo, e.g. a CPU test of DDP).

    mmengine's launcher calls ``torch.cuda.set_device`` and wraps the model with
    ``device_ids=[LOCAL_RANK]``, both of which fail without CUDA. The runner reuses a process
    group that exists, so start one here, and wrap the model without device ids (keeping
    mmengine's other defaults).
    """
    wrapper = dict(type='MMDistributedDataParallel', broadcast_buffers=False,
                   find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper.update(cfg.get('model_wrapper_cfg') or {})
    cfg.model_wrapper_cfg = dict(wrapper, device_ids=None)
    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group(backend='gloo')


def build_runner(config, work_dir=None, cfg_options=None, launcher='none', amp=False,
                 auto_scale_lr=False, resume=None):
    """The runner ``main`` trains, from keyword arguments: for drivers (mmproseco.pipeline)
    that go on to test it in the same process. ``cfg_options`` is a dict of dotted keys,
    as ``--cfg-options`` gives; ``resume`` a checkpoint path or ``'auto'``."""
    cfg = load_config(config, cfg_options, launcher, work_dir)
    if amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.loss_scale = 'dynamic'
    if auto_scale_lr:
        if 'base_batch_size' not in cfg.get('auto_scale_lr', {}):
            raise ValueError('--auto-scale-lr needs auto_scale_lr.base_batch_size in the config')
        cfg.auto_scale_lr.enable = True
    if resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif resume is not None:
        cfg.resume, cfg.load_from = True, resume
    # The checkpoint the runner will load: load_from, or with `--resume` and no path the
    # latest one of the work dir (mmengine starts from scratch when there is none).
    checkpoint = cfg.get('load_from') or (find_latest_checkpoint(cfg.work_dir)
                                          if cfg.get('resume') else None)
    if checkpoint:
        check_checkpoint(checkpoint)
    if launcher == 'pytorch' and not torch.cuda.is_available():
        use_cpu_process_group(cfg)
    return Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)


def main(argv=None):
    args = parse_args(argv)
    build_runner(args.config, args.work_dir, args.cfg_options, args.launcher, args.amp,
                 args.auto_scale_lr, args.resume).train()


if __name__ == '__main__':
    run_cli(main)
