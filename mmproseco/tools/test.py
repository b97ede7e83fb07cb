"""Evaluate a checkpoint: mmdet's ``tools/test.py`` contract.

``mim test mmproseco CONFIG --checkpoint CKPT`` and ``python tools/test.py CONFIG CKPT`` run
this. ``--show-dir`` paints predictions with the config's visualizer; ``--out`` dumps them.
"""
import argparse

from mmdet.engine.hooks import DetVisualizationHook
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from mmproseco.tools.cli import check_checkpoint, load_config, parse_with_common_args, run_cli


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (and evaluate) a model with mmproseco')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save the evaluation metrics')
    parser.add_argument('--out', help='dump predictions to a .pkl file')
    parser.add_argument('--show-dir', help='save painted predictions under work_dir/<time>/DIR')
    return parse_with_common_args(parser, argv)


def main(argv=None):
    args = parse_args(argv)
    check_checkpoint(args.checkpoint)
    cfg = load_config(args.config, args.cfg_options, args.launcher, args.work_dir)
    cfg.load_from = args.checkpoint
    if args.show_dir:
        from mmdet.engine.hooks.utils import trigger_visualization_hook
        args.show, args.wait_time = False, 0
        cfg = trigger_visualization_hook(cfg, args)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    if args.out is not None:
        if not args.out.endswith(('.pkl', '.pickle')):
            raise ValueError(f'--out must be a .pkl file, got {args.out!r}')
        from mmdet.evaluation import DumpDetResults
        runner.test_evaluator.metrics.append(DumpDetResults(out_file_path=args.out))
    return run_test(runner, paint=bool(args.show_dir))


def run_test(runner, paint=False):
    """``runner.test()``, painting the test images only if ``paint``.

    mmdet's visualization hook paints *every* test image when its ``draw`` is on, which the
    configs turn on for a few validation images; as in mmdet's test.py, only ``--show-dir``
    paints test images.
    """
    if not paint:
        for hook in runner.hooks:
            if isinstance(hook, DetVisualizationHook):
                hook.draw = False
    return runner.test()


if __name__ == '__main__':
    run_cli(main)
