"""The stages of dvc.yaml: each runs mmproseco's own train/test entry points (the code
``mim train``/``mim test`` run) with the sizes of the active profile of params.yaml, and
writes its metrics as JSON.

    python tools/pipeline.py proposals shapes
    python tools/pipeline.py backbone                  # image-level SCE: the shared backbone
    python tools/pipeline.py pretrain proseco
    python tools/pipeline.py finetune proseco 5 0      # method, labeled %, seed; then test
    python tools/pipeline.py train CONFIG WORK_DIR i2i_detector_iters   # any config
    python tools/pipeline.py train CONFIG WORK_DIR baseline_iters --test-metrics OUT.json
    python tools/pipeline.py i2i-eval                  # the I2I table and figures

``profile: smoke`` in params.yaml (``dvc exp run -S profile=smoke``) shrinks every stage to a
few iterations, to check the graph end to end.
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

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmproseco.tools import test as test_tool  # noqa: E402
from mmproseco.tools import train as train_tool  # noqa: E402
from mmproseco.tools.cli import load_config  # noqa: E402
from mmproseco.tools.test import run_test  # noqa: E402
from tools.export_pretrained import main as export_main  # noqa: E402
from tools.i2i_figures import main as i2i_figures  # noqa: E402
from tools.i2i_report import main as i2i_report  # noqa: E402
from tools.make_splits import split_name  # noqa: E402
from tools.selective_search import main as selective_search  # noqa: E402


BACKBONE_CHECKPOINT = osp.join('work', 'backbone', 'detector.pth')
I2I_WORK = osp.join('work', 'i2i', 'deepforest-fog')
I2I_TEST_ANN = osp.join('work', 'fog', 'deepforest', 'annotations', 'test.json')


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


def pretrained_backbone_options(backbone_key, checkpoint):
    """--cfg-options that start the backbone at ``backbone_key`` (``model.backbone``,
    ``model.detector.backbone``) from the student backbone of an ImageSCE checkpoint.
    ``_delete_`` because the configs' ``init_cfg`` is None, which a dict cannot merge into."""
    init = f'{backbone_key}.init_cfg'
    return [f'{init}._delete_=True', f'{init}.type=Pretrained',
            f'{init}.prefix=student.backbone.', f'{init}.checkpoint={checkpoint}']


def backbone_options(params, method):
    """How ``method`` starts from the stage ``backbone``'s weights: every method (and the
    random-init baseline) gets the same backbone, frozen during pretraining if the params
    say so, as the paper freezes its ImageNet backbone. Fine-tuning trains it."""
    if not params['backbone']['use']:
        return []
    if method in params['teacher_student']:  # ProSeCo wraps a student and a teacher detector
        key, freeze = 'model.detector.backbone', ['model.freeze_backbone=True']
    else:
        key, freeze = 'model.backbone', ['model.backbone.frozen_stages=4']
    frozen = params['backbone']['frozen'] and method != 'scratch'
    return pretrained_backbone_options(key, BACKBONE_CHECKPOINT) + (freeze if frozen else [])


def save_random_init(config, out, options=()):
    """The 'scratch' baseline: the detector's seeded random initialization, saved so that
    it enters fine-tuning through the same ``load_from`` path as the pretrained ones."""
    from mmengine.registry import init_default_scope
    from mmengine.runner import set_random_seed

    from mmdet.registry import MODELS

    cfg = load_config(config, train_tool.parse_args([config, *cfg_options(options)]).cfg_options)
    init_default_scope(cfg.default_scope)
    set_random_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    os.makedirs(osp.dirname(out), exist_ok=True)
    torch.save(dict(state_dict=model.state_dict()), out + '.full')
    export_main([out + '.full', out, '--source', ''])
    os.remove(out + '.full')


def proposals(params, dataset):
    """Selective Search boxes of the unlabeled pool (the profile may take only a part), and
    the stage's metrics: images, boxes, wall time, and how many came from the cache."""
    root = osp.join('data', dataset)
    start = time.time()
    summary = selective_search([
        '--ann', osp.join(root, 'annotations', 'unlabeled.json'), '--img-dir',
        osp.join(root, 'images'), '--out', osp.join('work', 'proposals', dataset),
        '--max-images', str(params['size']['proposal_images']), '--no-progress'
    ])
    write_json(osp.join('results', 'metrics', 'proposals', f'{dataset}.json'),
               dict(wall_seconds=round(time.time() - start, 1), workers=os.cpu_count(),
                    **{k: summary[k] for k in ('images', 'with_proposals', 'skipped_count',
                                               'boxes', 'boxes_per_image', 'computed',
                                               'reused')}))


def pretrain_run(config, work_dir, iters, seed, source, options=()):
    """Pretrain ``config`` for ``iters`` iterations and export the detector it trained to
    ``<work_dir>/detector.pth`` (``source``: the submodule holding it, '' for the whole
    model). Returns the training seconds and the last logged losses."""
    shutil.rmtree(work_dir, ignore_errors=True)
    start = time.time()
    train_tool.main([
        config, '--work-dir', work_dir, '--cfg-options', f'train_cfg.max_iters={iters}',
        f'default_hooks.checkpoint.interval={iters}', f'randomness.seed={seed}', *options
    ])
    seconds = time.time() - start
    ckpt = osp.join(work_dir, f'iter_{iters}.pth')
    export_main([ckpt, osp.join(work_dir, 'detector.pth'), '--source', source])
    os.remove(ckpt)  # detector.pth is the stage's output; the full checkpoint is 3x larger
    return dict(train_seconds=round(seconds, 1),
                last_losses={k: v for k, v in last_scalars(work_dir).items()
                             if k.startswith('loss')})


def backbone(params):
    """Image-level SCE on the unlabeled pool: the backbone every method starts from."""
    iters = params['size']['backbone_iters']
    run = pretrain_run(params['backbone']['config'], osp.dirname(BACKBONE_CHECKPOINT), iters,
                       params['pretrain_seed'], source='')
    write_json(osp.join('results', 'metrics', 'pretrain', 'image-sce-backbone.json'),
               dict(method='image-sce-backbone', iters=iters, **run))


def pretrain(params, method):
    work_dir = osp.join('work', 'pretrain', method)
    metrics_file = osp.join('results', 'metrics', 'pretrain', f'{method}.json')
    options = backbone_options(params, method)
    if method == 'scratch':
        shutil.rmtree(work_dir, ignore_errors=True)
        save_random_init(params['pretrain'][method], osp.join(work_dir, 'detector.pth'), options)
        write_json(metrics_file, dict(method=method, iters=0, train_seconds=0.0, last_losses={}))
        return
    iters = params['size']['pretrain_iters']
    source = 'student' if method in params['teacher_student'] else ''
    run = pretrain_run(params['pretrain'][method], work_dir, iters, params['pretrain_seed'],
                       source, options)
    write_json(metrics_file, dict(method=method, iters=iters, **run))


def test_metrics(runner):
    """Test the runner's current weights; the metrics as plain floats."""
    return {k: float(v) for k, v in run_test(runner).items()}


def finetune_run(params, init_checkpoint, fraction, seed, work_dir):
    """Fine-tune ``init_checkpoint`` on one labeled split, keep the best checkpoint on val
    (``<work_dir>/best.pth``), then test it. Returns the run's facts and test metrics.

    Model selection uses val only; the test set is read once, by the kept checkpoint. One
    runner does both, so the log of the test follows the training log.
    """
    size = params['size']
    shutil.rmtree(work_dir, ignore_errors=True)
    iters = size['finetune_iters'][fraction]
    interval = max(1, iters // size['validations'])
    start = time.time()
    runner = train_tool.build_runner([
        params['finetune_config'], '--work-dir', work_dir, '--cfg-options',
        f'load_from={init_checkpoint}', f'randomness.seed={seed}',
        'train_dataloader.dataset.ann_file=' +
        osp.join(params['splits_dir'], split_name(fraction, seed)),
        f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={interval}',
        f'default_hooks.checkpoint.interval={interval}', *eval_subset(params)
    ])
    runner.train()
    train_seconds = time.time() - start
    best = glob.glob(osp.join(work_dir, 'best_coco_bbox_mAP_iter_*.pth'))
    if len(best) != 1:
        raise RuntimeError(f'expected one best checkpoint in {work_dir}, found {best}')
    best_iter = int(best[0].rsplit('_', 1)[1][:-4])
    os.replace(best[0], osp.join(work_dir, 'best.pth'))
    for ckpt in glob.glob(osp.join(work_dir, 'iter_*.pth')):
        os.remove(ckpt)
    runner.load_checkpoint(osp.join(work_dir, 'best.pth'))
    return dict(fraction=fraction, seed=seed, iters=iters, best_iter=best_iter,
                train_seconds=round(train_seconds, 1), **test_metrics(runner))


def finetune(params, method, fraction, seed):
    name = run_name(method, fraction, seed)
    run = finetune_run(params, osp.join('work', 'pretrain', method, 'detector.pth'), fraction,
                       seed, osp.join('work', 'finetune', name))
    write_json(osp.join('results', 'metrics', 'finetune', f'{name}.json'),
               dict(method=method, **run))


def train(params, config, work_dir, size_key, extra_options=(), full_eval=False,
          metrics_file=None):
    """Train ``config`` for the profile's ``size_key`` iterations (a key holding None keeps
    the config's own schedule); the last checkpoint becomes ``<work_dir>/final.pth``.
    With ``metrics_file``, the same runner then tests the final weights and writes the
    metrics there as JSON."""
    iters = params['size'][size_key]
    shutil.rmtree(work_dir, ignore_errors=True)
    sizes = [] if iters is None else [
        f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
        f'default_hooks.checkpoint.interval={iters}'
    ]
    subset = [] if full_eval else eval_subset(params)
    runner = train_tool.build_runner([config, '--work-dir', work_dir,
                                      *cfg_options([*sizes, *subset, *extra_options])])
    runner.train()
    if iters is None:
        iters = runner.cfg.train_cfg.max_iters
    final = osp.join(work_dir, 'final.pth')
    os.replace(osp.join(work_dir, f'iter_{iters}.pth'), final)
    if metrics_file is not None:
        write_json(metrics_file, dict(config=config, checkpoint=final, **test_metrics(runner)))


def i2i_eval(params):
    """The I2I table: the clear-trained detector tested on the foggy test tiles raw
    ("Source"), behind each adapter, and the target oracle, in one process; then the rows
    scored with pycocotools and the translation figures."""
    adapters, eval_dir = params['i2i']['adapters'], osp.join(I2I_WORK, 'eval')
    runs = [  # row, config, training run, pickle name, options
        ('Source', adapters['attention-i2i'], 'attention-i2i', 'source', ['model.translate=False']),
        ('Translated', adapters['attention-i2i'], 'attention-i2i', 'translated', []),
        ('CUT', adapters['cut'], 'cut', 'cut', []),
        ('No local-global', adapters['attention-i2i-no-lg'], 'attention-i2i-no-lg', 'no-lg', []),
        ('Target oracle', params['i2i']['oracle'], 'oracle', 'oracle', []),
    ]
    rows = []
    for row, config, run, name, options in runs:
        out = osp.join(eval_dir, f'{name}.pkl')
        test_tool.main([config, osp.join(I2I_WORK, run, 'final.pth'), '--work-dir', eval_dir,
                        '--out', out, *cfg_options(options)])
        rows += ['--row', f'{row}={out}']
    i2i_report(['--ann-file', I2I_TEST_ANN, *rows,
                '--out', osp.join('results', 'metrics', 'i2i', 'deepforest-fog.json')])
    i2i_figures([adapters['attention-i2i'], osp.join(I2I_WORK, 'attention-i2i', 'final.pth'),
                 '--work-dir', osp.join(I2I_WORK, 'attention-i2i'),
                 '--out-dir', osp.join('results', 'i2i')])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='stage', required=True)
    sub.add_parser('proposals').add_argument('dataset')
    sub.add_parser('backbone')
    sub.add_parser('pretrain').add_argument('method')
    sub.add_parser('i2i-eval')
    p = sub.add_parser('train', help='any config, sized by the profile')
    p.add_argument('config')
    p.add_argument('work_dir')
    p.add_argument('size_key', help='the key of the profile that holds the iterations')
    p.add_argument('--test-metrics', metavar='JSON',
                   help='then test the final weights and write the metrics here')
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
    elif args.stage == 'backbone':
        backbone(params)
    elif args.stage == 'pretrain':
        pretrain(params, args.method)
    elif args.stage == 'i2i-eval':
        i2i_eval(params)
    elif args.stage == 'train':
        train(params, args.config, args.work_dir, args.size_key, args.cfg_options,
              args.full_eval, args.test_metrics)
    else:
        finetune(params, args.method, args.fraction, args.seed)


if __name__ == '__main__':
    from mmproseco.tools.cli import run_cli
    run_cli(main)
