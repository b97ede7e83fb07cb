"""Does a speed option change what the detector learns? Val mAP after a fixed budget.

    python benchmarks/check_learning.py --repo /tmp/old --repo . [--seeds 0 1 2]
        [--iters 600] [--fraction 10] [--lock /tmp/torch.lock] [--out learning.json]

For every ``--repo`` and seed, ``tools/train.py`` of that checkout trains its CPU-size
shapes fine-tuning config from random weights on the ``--fraction`` % split of that seed
(the splits are written once, by this checkout's ``mmproseco.pipeline.splits``, so both
trees see the same images) for ``--iters`` iterations, validates once at the end, and the
val bbox mAP is read from mmengine's ``scalars.json``. Runs are sequential, each under
``flock --lock``. Compare val mAP, not the training loss: removing dropout lowers the
training loss by construction. Writes JSON to ``--out`` and a markdown table beside it.
"""
import argparse
import glob
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import tempfile

FINETUNE = 'configs/finetune/deformable-detr_r18-tiny_1xb8-cpu_shapes-finetune.py'


def val_map(work_dir):
    """The last ``coco/bbox_mAP`` mmengine logged under ``work_dir``."""
    values = []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            values += [json.loads(line)['coco/bbox_mAP'] for line in f
                       if 'coco/bbox_mAP' in line]
    if not values:
        raise RuntimeError(f'no validation logged under {work_dir}')
    return values[-1]


def train_once(repo, split, seed, iters, lock, options):
    work_dir = tempfile.mkdtemp(prefix='learning_')
    argv = (['flock', lock] if lock else []) + [
        sys.executable, 'tools/train.py', FINETUNE, '--work-dir', work_dir, '--cfg-options',
        f'train_dataloader.dataset.ann_file={split}', f'train_cfg.max_iters={iters}',
        f'train_cfg.val_interval={iters}', f'default_hooks.checkpoint.interval={iters}',
        f'randomness.seed={seed}', *options]
    done = subprocess.run(argv, cwd=repo, env=dict(os.environ, PYTHONPATH=repo),
                          capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f'{argv} in {repo} failed:\n{done.stderr[-3000:]}')
    return dict(seed=seed, val_bbox_mAP=val_map(work_dir))


def git_label(repo):
    return subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=repo, text=True,
                          capture_output=True).stdout.strip()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--repo', action='append', help='checkout to train (repeatable)')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--iters', type=int, default=600)
    parser.add_argument('--fraction', type=float, default=10)
    parser.add_argument('--options', nargs='*', default=[], help='extra --cfg-options')
    parser.add_argument('--lock', help='flock file each run holds')
    parser.add_argument('--out', default='check_learning.json')
    args = parser.parse_args()
    here = osp.dirname(osp.dirname(osp.abspath(__file__)))
    split_dir = tempfile.mkdtemp(prefix='learning_splits_')
    lock = ['flock', args.lock] if args.lock else []
    subprocess.run(lock + [
        sys.executable, '-m', 'mmproseco.pipeline', 'splits',
        osp.join(here, 'data/shapes/annotations/train.json'), split_dir,
        '--fractions', str(args.fraction), '--seeds', *map(str, args.seeds)],
        cwd=here, check=True)
    from mmproseco.pipeline.splits import split_name
    results = []
    for seed in args.seeds:  # seed-major, so that a stopped run still pairs the trees
        split = osp.join(split_dir, split_name(args.fraction, seed))
        for repo in [osp.abspath(r) for r in args.repo or ['.']]:
            run = dict(repo=repo, label=git_label(repo),
                       **train_once(repo, split, seed, args.iters, args.lock, args.options))
            print(json.dumps(run), flush=True)
            results.append(run)
    with open(args.out, 'w') as f:
        json.dump(dict(iters=args.iters, fraction=args.fraction, results=results), f, indent=2)
    lines = ['| tree | seeds | val bbox mAP per seed | mean | std |', '|---|---|---|---|---|']
    for label in dict.fromkeys(r['label'] for r in results):
        runs = [r for r in results if r['label'] == label]
        maps = [r['val_bbox_mAP'] for r in runs]
        lines.append(f"| {label} | {' '.join(str(r['seed']) for r in runs)} | "
                     f"{' '.join(f'{m:.3f}' for m in maps)} | {statistics.mean(maps):.4f} | "
                     f"{statistics.stdev(maps) if len(maps) > 1 else 0:.4f} |")
    with open(osp.splitext(args.out)[0] + '.md', 'w') as f:
        f.write('\n'.join(lines) + '\n')


if __name__ == '__main__':
    main()
