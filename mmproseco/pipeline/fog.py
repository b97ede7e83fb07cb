"""Make a foggy copy of a COCO-layout image set with the Koschmieder model.

Reads ``SRC/images/*`` and ``SRC/annotations/*.json`` and writes ``OUT/images/*`` (same file names,
fogged) and ``OUT/annotations/*.json`` (copied unchanged), so the foggy set is evaluable with the
same annotations. Image ``i`` in sorted file-name order uses seed ``seed + i`` (its fractal noise
and, for ``--depth ramp``, the ramp's direction): the output is byte-identical for a given seed.

Examples (the ``fog@<scenario>`` stages of dvc.yaml run it as ``python -m mmproseco.pipeline
fog``)::

    python tools/make_fog.py --src data/deepforest --out work/fog/deepforest --beta 0.02 --seed 0
    python tools/make_fog.py --src data/shapes --out work/fog/shapes --beta 0.01 --depth ramp \
        --depth-range 20 120 --seed 0
"""
import argparse
import json
import shutil
from pathlib import Path

import cv2

from mmproseco.datasets.transforms.fog import depth_map, koschmieder_fog

IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--src', required=True, help='folder with images/ and annotations/')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--beta', type=float, default=0.02, help='attenuation coefficient (1/m)')
    parser.add_argument(
        '--depth',
        default='60',
        help="constant depth in metres (aerial tiles), 'ground' for a ground-plane proxy or "
        "'ramp' for a linear ramp in a random direction per image (generated scenes)")
    parser.add_argument('--depth-range', type=float, nargs=2, default=(20.0, 120.0),
                        metavar=('NEAR', 'FAR'), help="the ramp's depths in metres")
    parser.add_argument('--beta-noise', type=float, default=0.5, help='fractal modulation of beta')
    parser.add_argument('--atmospheric-light', type=float, default=0.85)
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    src, out = Path(args.src), Path(args.out)
    image_dir, ann_dir = src / 'images', src / 'annotations'
    if not image_dir.is_dir():
        raise FileNotFoundError(f'{image_dir} does not exist: --src must hold images/ and '
                                'annotations/ (COCO layout)')
    images = sorted(p for p in image_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not images:
        raise FileNotFoundError(f'no {IMAGE_SUFFIXES} images in {image_dir}')
    (out / 'images').mkdir(parents=True, exist_ok=True)
    for index, path in enumerate(images):
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise OSError(f'cannot read {path}: not an image or corrupt; remove or replace it')
        seed = args.seed + index
        depth = depth_map(args.depth, *image.shape[:2], seed, args.depth_range)
        foggy = koschmieder_fog(image, depth, args.beta, args.atmospheric_light, args.beta_noise,
                                seed)
        cv2.imwrite(str(out / 'images' / path.name), foggy)
    if ann_dir.is_dir():
        shutil.copytree(ann_dir, out / 'annotations', dirs_exist_ok=True)
    summary = dict(images=len(images), beta=args.beta, depth=args.depth,
                   beta_noise=args.beta_noise, seed=args.seed, out=str(out))
    if args.depth == 'ramp':
        summary['depth_range'] = list(args.depth_range)
    print(json.dumps(summary))


if __name__ == '__main__':
    main()
