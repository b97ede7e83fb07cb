"""Which backbone should ProSeCo start from, when no ImageNet weights can be downloaded?

The paper freezes an ImageNet-pretrained backbone. This study pretrains ProSeCo on the
unlabeled shapes pool from four starts, fine-tunes each on the same labeled splits, tests
the checkpoint chosen on val, and writes a table (docs/proseco.md quotes it):

    python tools/study_backbone_init.py --fraction 10 --seeds 0 1

- ``joint``: a random backbone, trained with the transformer during ProSeCo;
- ``frozen-random``: a random backbone, frozen (the paper's recipe without its weights);
- ``frozen-image-sce``: the backbone of image-level SCE on the same pool
  (params.yaml ``backbone.config``), frozen;
- ``joint-image-sce``: the same start, then trained jointly.

Iterations come from the active profile of params.yaml, as in ``dvc repro``; it needs the
``proposals`` stage and the ``split`` stages of its seeds (``dvc repro proposals split``).
Everything it trains goes under ``work/studies/backbone_init``, the table to
``results/studies/``. A rerun keeps the arms that finished (``--fresh`` redoes them).
"""
import argparse
import json
import os.path as osp
import statistics

from .files import write_json
from .params import load_params
from .splits import split_name
from .stages import finetune, pretrain

ARMS = {
    'joint': dict(freeze=False, image_sce=False),
    'frozen-random': dict(freeze=True, image_sce=False),
    'frozen-image-sce': dict(freeze=True, image_sce=True),
    'joint-image-sce': dict(freeze=False, image_sce=True),
}


def run(work_dir, **outputs):
    """The stage outputs of one run of the study, all under ``work_dir``."""
    return {name: osp.join(work_dir, file) for name, file in outputs.items()}


def markdown_table(rows, fraction):
    lines = [f'| backbone start | test mAP at {fraction:g} % (mean ± std) | AP50 | '
             'runs (mAP) | ProSeCo pretraining s |', '|---|---|---|---|---|']
    for arm, row in rows.items():
        maps = [100 * r['coco/bbox_mAP'] for r in row['runs']]
        ap50 = [100 * r['coco/bbox_mAP_50'] for r in row['runs']]
        spread = statistics.stdev(maps) if len(maps) > 1 else 0.0
        lines.append(f'| {arm} | {statistics.mean(maps):.1f} ± {spread:.1f} | '
                     f'{statistics.mean(ap50):.1f} | {", ".join(f"{m:.1f}" for m in maps)} | '
                     f"{row['pretrain']['train_seconds']:.0f} |")
    return '\n'.join(lines) + '\n'


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--fraction', type=float, default=10, help='labeled %% to fine-tune on')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1])
    parser.add_argument('--arms', nargs='+', choices=sorted(ARMS), default=list(ARMS))
    parser.add_argument('--image-sce-iters', type=int, default=600)
    parser.add_argument('--pretrain-seed', type=int, default=0,
                        help='of ImageSCE and the ProSeCo pretrainings')
    parser.add_argument('--work-dir', default='work/studies/backbone_init')
    parser.add_argument('--out', default='results/studies/backbone_init')
    parser.add_argument('--fresh', action='store_true',
                        help='redo the arms (and ImageSCE) whose results are already there')
    args = parser.parse_args(argv)
    params = load_params()
    if args.fraction not in params['size']['finetune_iters']:
        raise ValueError(f'--fraction {args.fraction:g} has no finetune_iters in the '
                         f"{params['profile']!r} profile of params.yaml")
    seed, size = args.pretrain_seed, params['size']
    image_sce_checkpoint = osp.join(args.work_dir, 'image-sce', 'backbone.pth')
    needs_image_sce = any(ARMS[arm]['image_sce'] for arm in args.arms)
    if needs_image_sce and (args.fresh or not osp.isfile(image_sce_checkpoint)):
        pretrain(params['backbone']['config'], image_sce_checkpoint, args.image_sce_iters, seed,
                 **run(osp.dirname(image_sce_checkpoint), metrics='metrics.json',
                       curves='curves.json', timings='timings.json'))
    rows = {}
    for arm in args.arms:
        work_dir = osp.join(args.work_dir, arm)
        arm_file = osp.join(work_dir, 'result.json')
        if not args.fresh and osp.isfile(arm_file):
            with open(arm_file) as f:
                rows[arm] = json.load(f)
            continue
        detector = osp.join(work_dir, 'detector.pth')
        start = image_sce_checkpoint if ARMS[arm]['image_sce'] else None
        pretrained = pretrain(params['pretrain']['proseco'], detector, size['pretrain_iters'],
                              seed, backbone=start, freeze=ARMS[arm]['freeze'],
                              **run(work_dir, metrics='metrics.json', curves='curves.json',
                                    timings='timings.json'))
        runs = [finetune(params['finetune_config'], detector,
                         osp.join(params['splits_dir'], split_name(args.fraction, s)),
                         osp.join(work_dir, f'finetune_seed{s}', 'best.pth'),
                         size['finetune_iters'][args.fraction], size['validations'], s, size,
                         **run(osp.join(work_dir, f'finetune_seed{s}'), metrics='metrics.json',
                               curves='curves.json', timings='timings.json'))
                for s in args.seeds]
        rows[arm] = dict(pretrain=pretrained, runs=runs)
        write_json(arm_file, rows[arm])
    write_json(args.out + '.json', dict(profile=params['profile'], fraction=args.fraction,
                                        image_sce_iters=args.image_sce_iters, arms=rows))
    with open(args.out + '.md', 'w') as f:
        f.write(markdown_table(rows, args.fraction))
    print(open(args.out + '.md').read())


if __name__ == '__main__':
    from mmproseco.tools.cli import run_cli
    run_cli(main)
