"""Labeled-fraction splits of a COCO train set, written to files.

    python tools/make_splits.py data/shapes/annotations/train.json work/splits/shapes \
        --fractions 1 5 10 --seeds 0 1

writes ``train@<pct>pct_seed<s>.json`` (images sampled without replacement, seeded, with
all their boxes) and ``splits.json`` (the image ids of each split). The DVC graph writes
one split per stage, in the chain of its seed::

    python -m mmproseco.pipeline split data/shapes/annotations/train.json \
        --fraction 10 --seed 0 --out work/splits/shapes/train@10pct_seed0.json
 Training reads the
split from its file, so every process of a multi-GPU run sees the same images: DETReg's
early few-label numbers were inflated because each GPU drew its own subset.
"""
import argparse
import json
import os
import os.path as osp

import numpy as np


def sample_image_ids(image_ids, percent: float, seed: int):
    """``round(len * percent / 100)`` ids (at least one) without replacement, sorted."""
    if not 0 < percent <= 100:
        raise ValueError(f'fraction must be in (0, 100] percent, got {percent}')
    count = max(1, round(len(image_ids) * percent / 100))
    chosen = np.random.default_rng(seed).choice(len(image_ids), size=count, replace=False)
    return sorted(image_ids[i] for i in chosen)


def subset(coco: dict, image_ids) -> dict:
    keep = set(image_ids)
    return dict(coco,
                images=[im for im in coco['images'] if im['id'] in keep],
                annotations=[a for a in coco['annotations'] if a['image_id'] in keep])


def split_name(percent: float, seed: int) -> str:
    return f'train@{percent:g}pct_seed{seed}.json'


def write_split(coco: dict, percent: float, seed: int, out: str):
    """Sample the split (``percent``, ``seed``) of ``coco`` and write it to ``out``; returns
    its image ids."""
    image_ids = sorted(im['id'] for im in coco['images'])
    ids = sample_image_ids(image_ids, percent, seed)
    os.makedirs(osp.dirname(out) or '.', exist_ok=True)
    with open(out, 'w') as f:
        json.dump(subset(coco, ids), f, sort_keys=True)
    print(f'{osp.basename(out)}: {len(ids)} of {len(image_ids)} images')
    return ids


def write_splits(ann_file, out_dir, fractions, seeds):
    """One file per (fraction, seed) and their ``splits.json`` index in ``out_dir``."""
    with open(ann_file) as f:
        coco = json.load(f)
    os.makedirs(out_dir, exist_ok=True)
    index = {}
    for percent in fractions:
        for seed in seeds:
            name = split_name(percent, seed)
            index[name] = write_split(coco, percent, seed, osp.join(out_dir, name))
    with open(osp.join(out_dir, 'splits.json'), 'w') as f:
        json.dump(index, f, sort_keys=True, indent=1)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('ann_file')
    parser.add_argument('out_dir')
    parser.add_argument('--fractions', type=float, nargs='+', default=[1, 5, 10],
                        help='labeled percentages')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0])
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    write_splits(args.ann_file, args.out_dir, args.fractions, args.seeds)


def split_main(argv=None):
    """``python -m mmproseco.pipeline split ANN --fraction F --seed S --out FILE``."""
    parser = argparse.ArgumentParser(prog='python -m mmproseco.pipeline split',
                                     description='One labeled-fraction split, as a file.')
    parser.add_argument('ann_file')
    parser.add_argument('--fraction', type=float, required=True, help='labeled percentage')
    parser.add_argument('--seed', type=int, required=True)
    parser.add_argument('--out', required=True, help=f'the split, {split_name(10, 0)} ...')
    args = parser.parse_args(argv)
    with open(args.ann_file) as f:
        write_split(json.load(f), args.fraction, args.seed, args.out)


if __name__ == '__main__':
    main()
