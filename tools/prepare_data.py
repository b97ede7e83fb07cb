"""Build the embedded datasets of mmproseco, deterministically.

Usage::

    python tools/prepare_data.py --out data --seed 0

writes ``data/deepforest`` (real aerial tree crowns from the ``deepforest==2.1.0`` wheel),
``data/shapes`` (a generated 8-class set with a designed class similarity) and
``data/README.md``. A rerun with the same arguments gives the same bytes. See
``docs/data.md`` for the layout, the splits and the similarity design.
"""
import argparse
import json
import os
import os.path as osp
import sys
import time

from dataprep import deepforest, shapes
from dataprep.deterministic_io import PrepareDataError, StagingDir, dump_json

DATASETS = ('deepforest', 'shapes')
SPLITS = ('unlabeled', 'train', 'val', 'test')
DEFAULT_SHAPES_SIZES = (3000, 200, 300)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('--out', default='data', help='output folder')
    parser.add_argument('--seed', type=int, default=0, help='seed of splits and generation')
    parser.add_argument('--datasets', nargs='+', choices=DATASETS, default=list(DATASETS),
                        help='datasets to (re)build; the others are left as they are')
    parser.add_argument('--shapes-sizes', type=int, nargs=3, default=DEFAULT_SHAPES_SIZES,
                        metavar=('TRAIN', 'VAL', 'TEST'), help='shapes images per split')
    parser.add_argument('--workers', type=int, default=1,
                        help='processes that render the shapes images (same bytes for any)')
    parser.add_argument('--deepforest-pool-stride', type=int, default=200,
                        help='stride (px) of the overlapping 400 px tiles of the unlabeled pool')
    parser.add_argument('--deepforest-wheel', default=None,
                        help='use this deepforest-2.1.0 wheel instead of downloading it')
    parser.add_argument('--cache-dir', default=deepforest.default_cache_dir(),
                        help='where the deepforest wheel is downloaded to')
    args = parser.parse_args(argv)
    if any(n < 1 for n in args.shapes_sizes):
        parser.error(f'--shapes-sizes must be positive, got {args.shapes_sizes}')
    if args.workers < 1:
        parser.error(f'--workers must be positive, got {args.workers}')
    if args.deepforest_pool_stride < 1:
        parser.error(f'--deepforest-pool-stride must be positive, got '
                     f'{args.deepforest_pool_stride}')
    return args


def rebuild_command(args):
    """The command line that reproduces this build (only non-default options)."""
    parts = ['python tools/prepare_data.py', f'--out {args.out}', f'--seed {args.seed}']
    if tuple(args.shapes_sizes) != DEFAULT_SHAPES_SIZES:
        parts.append('--shapes-sizes ' + ' '.join(map(str, args.shapes_sizes)))
    if args.deepforest_pool_stride != 200:
        parts.append(f'--deepforest-pool-stride {args.deepforest_pool_stride}')
    return ' '.join(parts)


def count_table(splits):
    """``{split: (images, boxes)}`` of a dataset."""
    return {s: (len(splits[s]['images']), len(splits[s]['annotations'])) for s in SPLITS}


def read_counts(out):
    """Counts of every dataset present under ``out``, read from its annotation files."""
    counts = {}
    for name in DATASETS:
        folder = osp.join(out, name, 'annotations')
        if all(osp.isfile(osp.join(folder, f'{s}.json')) for s in SPLITS):
            with_json = {}
            for split in SPLITS:
                with open(osp.join(folder, f'{split}.json'), encoding='utf-8') as f:
                    with_json[split] = json.load(f)
            counts[name] = count_table(with_json)
    return counts


def write_readme(out, args, counts):
    lines = [
        '# Embedded datasets of mmproseco', '',
        'Generated, do not edit: rebuild byte for byte with', '',
        f'    {rebuild_command(args)}', '',
        f'Seed: {args.seed}. Layout, splits and design: `docs/data.md`.', '',
    ]
    if 'deepforest' in counts:
        lines += [
            '## deepforest/', '',
            f'Real NEON aerial RGB tiles (400x400) with tree-crown boxes, from the data folder of '
            f'the `deepforest=={deepforest.VERSION}` wheel on PyPI (sha256 '
            f'`{deepforest.WHEEL_SHA256}`). Licence: MIT (c) Weecology / the DeepForest authors; '
            'the images are NEON Airborne Observation Platform data. One class `tree` '
            '(Tree/Dead/Alive merged); each image has a `site` (YELL, OSBS, SOAP).', '']
    if 'shapes' in counts:
        lines += [
            '## shapes/', '',
            'Generated 128x128 images of 8 classes with a designed similarity '
            '(`class_similarity.json`). Licence: Apache-2.0 (mmproseco). `unlabeled.json` '
            'holds the train images without annotations.', '']
    lines += ['## Counts (images / boxes)', '', '| dataset | ' + ' | '.join(SPLITS) + ' |',
              '|---' * (len(SPLITS) + 1) + '|']
    for name, table in counts.items():
        lines.append(f'| {name} | ' + ' | '.join(f'{i} / {b}' for i, b in table.values()) + ' |')
    with open(osp.join(out, 'README.md'), 'w', encoding='utf-8', newline='\n') as f:
        f.write('\n'.join(lines) + '\n')


def write_dataset(folder, splits, extra_files=None):
    os.makedirs(osp.join(folder, 'annotations'), exist_ok=True)
    for split in SPLITS:
        dump_json(splits[split], osp.join(folder, 'annotations', f'{split}.json'))
    for name, content in (extra_files or {}).items():
        dump_json(content, osp.join(folder, name))


def main(argv=None):
    args = parse_args(argv)
    start = time.perf_counter()
    os.makedirs(args.out, exist_ok=True)
    if 'deepforest' in args.datasets:
        wheel = deepforest.fetch_wheel(args.cache_dir, args.deepforest_wheel)
        with StagingDir(osp.join(args.out, 'deepforest')) as folder:
            splits = deepforest.build(folder, wheel, args.seed,
                                      pool_stride=args.deepforest_pool_stride)
            write_dataset(folder, splits)
    if 'shapes' in args.datasets:
        sizes = dict(zip(('train', 'val', 'test'), args.shapes_sizes))
        with StagingDir(osp.join(args.out, 'shapes')) as folder:
            splits = shapes.build(folder, args.seed, sizes, workers=args.workers)
            write_dataset(folder, splits, {'class_similarity.json': shapes.similarity_table()})
    counts = read_counts(args.out)  # also the datasets not rebuilt this time
    write_readme(args.out, args, counts)

    print(f'{"dataset":<12}' + ''.join(f'{s:>20}' for s in SPLITS))
    for name, table in counts.items():
        print(f'{name:<12}' + ''.join(f'{f"{i} img / {b} box":>20}' for i, b in table.values()))
    print(f'done in {time.perf_counter() - start:.1f} s -> {args.out}')


if __name__ == '__main__':
    try:
        main()
    except PrepareDataError as err:
        sys.exit(f'prepare_data: {err}')
