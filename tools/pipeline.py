"""The stages of dvc.yaml: each runs mmproseco's own train/test entry points (the code
``mim train``/``mim test`` run) with the sizes of the active profile of params.yaml, and
writes its metrics as JSON.

    python tools/pipeline.py proposals shapes
    python tools/pipeline.py pretrain proseco
    python tools/pipeline.py finetune proseco 5 0      # method, labeled %, seed; then test
    python tools/pipeline.py train CONFIG WORK_DIR i2i_detector_iters   # any config

``profile: smoke`` in params.yaml (``dvc exp run -S profile=smoke``) shrinks every stage to a
few iterations, to check the graph end to end in minutes.
"""
import argparse
import glob
import json
import os
import os.path as osp
import shutil
import sys
import time

import torch
import yaml
from mmengine.config import Config

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmproseco.tools import test as test_tool  # noqa: E402
from mmproseco.tools import train as train_tool  # noqa: E402
from tools.export_pretrained import main as export_main  # noqa: E402
from tools.make_splits import split_name  # noqa: E402
from tools.selective_search import main as selective_search  # noqa: E402


def load_params(path='params.yaml'):
    """params.yaml with the active profile's sizes merged in as ``params['size']``."""
    with open(path) as f:
        params = yaml.safe_load(f)
    if params['profile'] not in params['profiles']:
        raise ValueError(f"profile {params['profile']!r} is not one of "
                         f"{sorted(params['profiles'])} in {path}")
    params['size'] = params['profiles'][params['profile']]
    return params


def cfg_options(options):
    return ['--cfg-options', *options] if options else []


def write_json(path, data):
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(data, f, indent=2, sort_keys=True)


def last_scalars(work_dir):
    """The last logged training scalars of a run (mmengine's JSON-lines scalars.json)."""
    files = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not files:
        return {}
    with open(files[-1]) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    train_rows = [r for r in rows if 'loss' in r]
    return train_rows[-1] if train_rows else {}


def eval_subset(params, loaders=('val', 'test')):
    """--cfg-options that cut val/test to the profile's ``eval_images`` (0: all)."""
    count = params['size'].get('eval_images', 0)
    return [f'{name}_dataloader.dataset.indices={count}' for name in loaders] if count else []


def run_name(method, fraction, seed):
    return f'{method}_{fraction:g}pct_seed{seed}'


def save_random_init(config, out):
    """The 'scratch' baseline: the detector's seeded random initialization, saved so that
    it enters fine-tuning through the same ``load_from`` path as the pretrained ones."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmengine.runner import set_random_seed

    from mmdet.registry import MODELS

    cfg = Config.fromfile(config)
    init_default_scope(cfg.default_scope)
    set_random_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    os.makedirs(osp.dirname(out), exist_ok=True)
    torch.save(dict(state_dict=model.state_dict()), out + '.full')
    export_main([out + '.full', out, '--source', ''])
    os.remove(out + '.full')


def proposals(params, dataset):
    """Selective Search boxes of the unlabeled pool (the profile may take only a part)."""
    root = osp.join('data', dataset)
    selective_search([
        '--ann', osp.join(root, 'annotations', 'unlabeled.json'), '--img-dir',
        osp.join(root, 'images'), '--out', osp.join('work', 'proposals', dataset),
        '--max-images', str(params['size']['proposal_images']), '--no-progress'
    ])


def pretrain(params, method):
    size = params['size']
    work_dir = osp.join('work', 'pretrain', method)
    shutil.rmtree(work_dir, ignore_errors=True)
    if method == 'scratch':
        save_random_init(params['pretrain'][method], osp.join(work_dir, 'detector.pth'))
        write_json(osp.join('results', 'metrics', 'pretrain', f'{method}.json'),
                   dict(method=method, iters=0, train_seconds=0.0, last_losses={}))
        return
    start = time.time()
    train_tool.main([
        params['pretrain'][method], '--work-dir', work_dir, '--cfg-options',
        f"train_cfg.max_iters={size['pretrain_iters']}",
        f"default_hooks.checkpoint.interval={size['pretrain_iters']}",
        f"randomness.seed={params['pretrain_seed']}"
    ])
    seconds = time.time() - start
    ckpt = osp.join(work_dir, f"iter_{size['pretrain_iters']}.pth")
    export_main([ckpt, osp.join(work_dir, 'detector.pth'),
                 '--source', 'student' if method in params['teacher_student'] else ''])
    os.remove(ckpt)  # detector.pth is the stage's output; the full checkpoint is 3x larger
    write_json(osp.join('results', 'metrics', 'pretrain', f'{method}.json'),
               dict(method=method, iters=size['pretrain_iters'], train_seconds=round(seconds, 1),
                    last_losses={k: v for k, v in last_scalars(work_dir).items()
                                 if k.startswith('loss')}))


def finetune(params, method, fraction, seed):
    """Fine-tune on one labeled split, keep the best checkpoint on val, then test it.

    Model selection uses val only; the test set is read once, by the kept checkpoint.
    """
    size = params['size']
    name = run_name(method, fraction, seed)
    work_dir = osp.join('work', 'finetune', name)
    shutil.rmtree(work_dir, ignore_errors=True)
    iters = size['finetune_iters'][fraction]
    interval = max(1, iters // size['validations'])
    start = time.time()
    train_tool.main([
        params['finetune_config'], '--work-dir', work_dir, '--cfg-options',
        f"load_from={osp.join('work', 'pretrain', method, 'detector.pth')}",
        f'randomness.seed={seed}',
        'train_dataloader.dataset.ann_file=' +
        osp.join(params['splits_dir'], split_name(fraction, seed)),
        f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={interval}',
        f'default_hooks.checkpoint.interval={interval}', *eval_subset(params, ('val',))
    ])
    train_seconds = time.time() - start
    best = glob.glob(osp.join(work_dir, 'best_coco_bbox_mAP_iter_*.pth'))
    if len(best) != 1:
        raise RuntimeError(f'expected one best checkpoint in {work_dir}, found {best}')
    best_iter = int(best[0].rsplit('_', 1)[1][:-4])
    os.replace(best[0], osp.join(work_dir, 'best.pth'))
    for ckpt in glob.glob(osp.join(work_dir, 'iter_*.pth')):
        os.remove(ckpt)
    metrics = test_tool.main([params['finetune_config'], osp.join(work_dir, 'best.pth'),
                              '--work-dir', osp.join(work_dir, 'test'),
                              *cfg_options(eval_subset(params, ('test',)))])
    write_json(osp.join('results', 'metrics', 'finetune', f'{name}.json'),
               dict(method=method, fraction=fraction, seed=seed, iters=iters,
                    best_iter=best_iter, train_seconds=round(train_seconds, 1),
                    **{k: float(v) for k, v in metrics.items()}))


def train(params, config, work_dir, size_key, extra_options=(), full_eval=False):
    """Train ``config`` for the profile's ``size_key`` iterations (a key holding None keeps
    the config's own schedule); the last checkpoint becomes ``<work_dir>/final.pth``."""
    iters = params['size'][size_key]
    shutil.rmtree(work_dir, ignore_errors=True)
    sizes = [] if iters is None else [
        f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
        f'default_hooks.checkpoint.interval={iters}'
    ]
    subset = [] if full_eval else eval_subset(params, ('val',))
    train_tool.main([config, '--work-dir', work_dir,
                     *cfg_options([*sizes, *subset, *extra_options])])
    if iters is None:
        iters = Config.fromfile(config).train_cfg.max_iters
    os.replace(osp.join(work_dir, f'iter_{iters}.pth'), osp.join(work_dir, 'final.pth'))


def test(params, config, checkpoint, metrics_file, extra_options=(), full_eval=False):
    """Test a checkpoint and write its metrics as JSON."""
    subset = [] if full_eval else eval_subset(params, ('test',))
    metrics = test_tool.main([config, checkpoint, '--work-dir',
                              osp.join(osp.dirname(checkpoint), 'test'),
                              *cfg_options([*subset, *extra_options])])
    write_json(metrics_file, dict(config=config, checkpoint=checkpoint,
                                  **{k: float(v) for k, v in metrics.items()}))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='stage', required=True)
    sub.add_parser('proposals').add_argument('dataset')
    sub.add_parser('pretrain').add_argument('method')
    p = sub.add_parser('train', help='any config, sized by the profile')
    p.add_argument('config')
    p.add_argument('work_dir')
    p.add_argument('size_key', help='the key of the profile that holds the iterations')
    p = sub.add_parser('test', help='test a checkpoint, write metrics JSON')
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('metrics_file')
    for p in sub.choices['train'], sub.choices['test']:
        p.add_argument('--cfg-options', nargs='*', default=[])
        p.add_argument('--full-eval', action='store_true',
                       help="never cut val/test to the profile's eval_images")
    p = sub.add_parser('finetune')
    p.add_argument('method')
    p.add_argument('fraction', type=float)
    p.add_argument('seed', type=int)
    args = parser.parse_args(argv)
    params = load_params()
    if args.stage == 'proposals':
        proposals(params, args.dataset)
    elif args.stage == 'pretrain':
        pretrain(params, args.method)
    elif args.stage == 'train':
        train(params, args.config, args.work_dir, args.size_key, args.cfg_options,
              args.full_eval)
    elif args.stage == 'test':
        test(params, args.config, args.checkpoint, args.metrics_file, args.cfg_options,
             args.full_eval)
    else:
        finetune(params, args.method, args.fraction, args.seed)


if __name__ == '__main__':
    from mmproseco.tools.cli import run_cli
    run_cli(main)
