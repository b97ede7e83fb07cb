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


def build_runner(config, checkpoint, work_dir=None, cfg_options=None, launcher='none',
                 out=None, show_dir=None):
    """The runner ``main`` tests, from keyword arguments (for mmproseco.pipeline).
    ``out``: dump the predictions to this .pkl file; ``show_dir``: paint them."""
    check_checkpoint(checkpoint)
    cfg = load_config(config, cfg_options, launcher, work_dir)
    cfg.load_from = checkpoint
    if show_dir:
        from mmdet.engine.hooks.utils import trigger_visualization_hook
        cfg = trigger_visualization_hook(
            cfg, argparse.Namespace(show=False, wait_time=0, show_dir=show_dir))
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    if out is not None:
        dump_predictions(runner, out)
    return runner


def dump_predictions(runner, out):
    """Make the runner's next test also dump its predictions to the .pkl file ``out``."""
    if not out.endswith(('.pkl', '.pickle')):
        raise ValueError(f'--out must be a .pkl file, got {out!r}')
    from mmdet.evaluation import DumpDetResults
    runner.test_evaluator.metrics.append(DumpDetResults(out_file_path=out))


def main(argv=None):
    args = parse_args(argv)
    runner = build_runner(args.config, args.checkpoint, args.work_dir, args.cfg_options,
                          args.launcher, args.out, args.show_dir)
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
