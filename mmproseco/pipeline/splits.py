"""Labeled-fraction splits of a COCO train set, written to files.

    python tools/make_splits.py data/shapes/annotations/train.json work/splits/shapes \
        --fractions 1 5 10 --seeds 0 1
    python -m mmproseco.pipeline splits data/shapes/annotations/train.json work/splits/shapes

writes ``train@<pct>pct_seed<s>.json`` (images sampled without replacement, seeded, with
all their boxes) and ``splits.json`` (the image ids of each split). Training reads the
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


def write_splits(ann_file, out_dir, fractions, seeds):
    """One file per (fraction, seed) and their ``splits.json`` index in ``out_dir``."""
    with open(ann_file) as f:
        coco = json.load(f)
    image_ids = sorted(im['id'] for im in coco['images'])
    os.makedirs(out_dir, exist_ok=True)
    index = {}
    for percent in fractions:
        for seed in seeds:
            ids = sample_image_ids(image_ids, percent, seed)
            name = split_name(percent, seed)
            with open(osp.join(out_dir, name), 'w') as f:
                json.dump(subset(coco, ids), f, sort_keys=True)
            index[name] = ids
            print(f'{name}: {len(ids)} of {len(image_ids)} images')
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


if __name__ == '__main__':
    main()
