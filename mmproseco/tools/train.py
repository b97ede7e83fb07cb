"""Train a model from a config: mmdet's ``tools/train.py`` contract.

``mim train mmproseco CONFIG``, ``python tools/train.py CONFIG`` and
``python -m mmproseco.tools.train CONFIG`` all run this. Multi-GPU and multi-node runs go
through mmengine's launchers: ``torchrun --nproc_per_node=8 tools/train.py CONFIG
--launcher pytorch`` or ``srun ... tools/train.py CONFIG --launcher slurm``.
"""
import argparse

import torch
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from mmproseco.tools.cli import load_config, parse_with_common_args, run_cli


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


def build_runner(argv=None):
    """The runner ``main`` trains: for drivers that go on to test it in the same process."""
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options, args.launcher, args.work_dir)
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.loss_scale = 'dynamic'
    if args.auto_scale_lr:
        if 'base_batch_size' not in cfg.get('auto_scale_lr', {}):
            raise ValueError('--auto-scale-lr needs auto_scale_lr.base_batch_size in the config')
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    if args.launcher == 'pytorch' and not torch.cuda.is_available():
        use_cpu_process_group(cfg)
    return Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)


def main(argv=None):
    build_runner(argv).train()


if __name__ == '__main__':
    run_cli(main)
