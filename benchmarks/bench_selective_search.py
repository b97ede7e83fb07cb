"""Speed of the Selective Search stage: images/s on one core, and the whole pool on all cores.

Usage::

    PYTHONPATH=. python benchmarks/bench_selective_search.py --img-dir data/shapes/images \\
        --limit 200

Without ``--img-dir`` (or when the folder is missing) it generates ``--limit`` 128 px images of
filled shapes in a temporary folder and says so. Timings: (1) ``compute_proposals`` on decoded
images in this process with one OpenCV thread (per-core rate, no I/O, no cache); (2) the tool's
``run_selective_search`` with a fresh cache and ``--workers`` processes (wall time including
reading, hashing and writing); (3) the same run again, served from the cache. Prints JSON, then a
table.
"""
import argparse
import dataclasses
import json
import os
import os.path as osp
import platform
import tempfile
import time

import cv2
import numpy as np

from mmproseco.datasets.unlabeled import list_image_files
from mmproseco.pipeline.selective_search import (SearchSettings, compute_proposals,
                                                 run_selective_search)


def generate_images(folder, count, size=128, seed=0):
    """``count`` images of filled rectangles and circles on a flat background."""
    rng = np.random.default_rng(seed)
    for i in range(count):
        img = np.full((size, size, 3), rng.integers(0, 90, 3), np.uint8)
        for _ in range(rng.integers(1, 5)):
            color = tuple(int(c) for c in rng.integers(100, 256, 3))
            x, y = (int(v) for v in rng.integers(10, size - 10, 2))
            radius = int(rng.integers(6, size // 4))
            if rng.random() < 0.5:
                cv2.circle(img, (x, y), radius, color, -1)
            else:
                cv2.rectangle(img, (x - radius, y - radius), (x + radius, y + radius), color, -1)
        cv2.imwrite(osp.join(folder, f'gen_{i:04d}.png'), img)
    return list_image_files(folder)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--img-dir', default='data/shapes/images')
    parser.add_argument('--limit', type=int, default=200, help='images to time')
    parser.add_argument('--workers', type=int, default=os.cpu_count())
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        if osp.isdir(args.img_dir):
            img_dir, source = args.img_dir, args.img_dir
            names = list_image_files(img_dir)[:args.limit]
        else:
            img_dir, source = tmp, f'generated ({args.img_dir} not found)'
            names = generate_images(tmp, args.limit)
        images = [cv2.imread(osp.join(img_dir, name)) for name in names]

        cv2.setNumThreads(1)
        compute_proposals(images[0])  # warm-up
        start = time.perf_counter()
        boxes = [compute_proposals(image) for image in images]
        single_s = time.perf_counter() - start

        settings = SearchSettings()
        cache_dir, out_dir = osp.join(tmp, 'cache'), osp.join(tmp, 'out')
        start = time.perf_counter()
        run_selective_search(names, img_dir, out_dir, cache_dir, settings, args.workers, False)
        pool_s = time.perf_counter() - start
        start = time.perf_counter()
        rerun = run_selective_search(names, img_dir, out_dir, cache_dir, settings, args.workers,
                                     False)
        cached_s = time.perf_counter() - start
        assert rerun['computed'] == 0

    result = dict(
        source=source, images=len(names),
        image_size=sorted({f'{i.shape[1]}x{i.shape[0]}' for i in images}),
        settings=dataclasses.asdict(settings),
        mean_boxes=round(float(np.mean([len(b) for b in boxes])), 1),
        cpu=platform.processor() or platform.machine(), cores=os.cpu_count(),
        workers=args.workers, opencv=cv2.__version__,
        single_core_images_per_s=round(len(names) / single_s, 2),
        single_core_ms_per_image=round(1000 * single_s / len(names), 2),
        pool_wall_s=round(pool_s, 3), pool_images_per_s=round(len(names) / pool_s, 2),
        pool_speedup_vs_one_core=round(single_s / pool_s, 2),
        cached_rerun_wall_s=round(cached_s, 3),
        cached_rerun_speedup_vs_pool=round(pool_s / cached_s, 1))
    print(json.dumps(result, indent=2))
    rows = [('one core, compute only', f'{result["single_core_images_per_s"]:.1f}',
             f'{single_s:.2f}'),
            (f'pool of {args.workers}, fresh cache', f'{result["pool_images_per_s"]:.1f}',
             f'{pool_s:.2f}'),
            (f'pool of {args.workers}, cached rerun', f'{len(names) / cached_s:.1f}',
             f'{cached_s:.2f}')]
    print(f'\n{"run":<28} {"images/s":>9} {"wall s":>8}')
    for row in rows:
        print(f'{row[0]:<28} {row[1]:>9} {row[2]:>8}')
    return result


if __name__ == '__main__':
    main()
