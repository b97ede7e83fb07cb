"""Compute and cache Selective Search proposals for a set of images (a DVC stage).

Usage (the ``proposals`` stage of dvc.yaml calls :func:`run_selective_search`)::

    python tools/selective_search.py --ann data/shapes/annotations/unlabeled.json \\
        --img-dir data/shapes/images --out work/proposals/shapes [--workers N]

The default setting is DETReg's: OpenCV's *fast* Selective Search on the image resized to
128x128, boxes scaled back to the original pixels. Degenerate boxes are dropped (a side under
``--min-size`` of the image side, an aspect ratio over ``--max-aspect``) and the first
``--max-boxes`` are kept in Selective Search order. ``--out`` receives ``proposals.npz`` (layout in
``mmproseco/datasets/unlabeled.py``) and ``meta.json`` (settings, counts, skipped images).

Per-image results are cached in ``--cache-dir`` under sha1(image bytes) and a hash of the
settings, so a rerun, or a run over an overlapping image set, only computes new or edited images.
The cache lives outside ``--out`` because DVC deletes a stage's outputs before it reruns it.
See ``docs/selective_search.md``.
"""
import argparse
import ctypes
import dataclasses
import hashlib
import json
import multiprocessing
import os
import os.path as osp
import sys
from typing import List, NamedTuple, Optional, Sequence, Tuple

import cv2
import numpy as np
from tqdm import tqdm

from mmproseco.datasets.unlabeled import list_image_files, save_proposal_file

MODES = {
    'fast': 'switchToSelectiveSearchFast',
    'quality': 'switchToSelectiveSearchQuality',
    'single': 'switchToSingleStrategy',
}
MIN_BOXES = 2  # fewer boxes cannot give a localization target worth learning (DETReg resamples)
CACHE_FORMAT_VERSION = 1
# OpenCV ranks Selective Search regions with C rand(). Reseeding it before every image makes an
# image's box order independent of which worker handled which images before it.
_LIBC = ctypes.CDLL(None)


@dataclasses.dataclass(frozen=True)
class SearchSettings:
    """Everything that changes the boxes of an image (and therefore the cache key).

    Args:
        mode (str): OpenCV strategy, one of ``'fast'``, ``'quality'``, ``'single'``.
        resize (int): Run on the image resized to ``resize x resize`` (DETReg: 128); 0 keeps the
            original size.
        max_boxes (int): Keep at most this many boxes, the first in Selective Search order.
        min_size (float): Drop boxes whose width (height) is under this fraction of the image
            width (height). 0.02 drops the 1-2 px regions of a 128 px search.
        max_aspect (float): Drop boxes with ``max(w / h, h / w)`` above this (AlignDet uses 3).
        seed (int): Seed of the C ``rand()`` that OpenCV uses to rank regions.
    """
    mode: str = 'fast'
    resize: int = 128
    max_boxes: int = 200
    min_size: float = 0.02
    max_aspect: float = 3.0
    seed: int = 0

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f'mode must be one of {sorted(MODES)}, got {self.mode!r}')
        if self.resize < 0:
            raise ValueError(f'resize must be >= 0 (0 = original size), got {self.resize}')
        if self.max_boxes < MIN_BOXES:
            raise ValueError(f'max_boxes must be >= {MIN_BOXES}, got {self.max_boxes}')
        if not 0 <= self.min_size < 1:
            raise ValueError(f'min_size must be in [0, 1), got {self.min_size}')
        if self.max_aspect < 1:
            raise ValueError(f'max_aspect must be >= 1, got {self.max_aspect}')

    def digest(self) -> str:
        """Hash of the settings, the OpenCV version and the cache format (the cache namespace)."""
        key = dict(dataclasses.asdict(self), opencv=cv2.__version__, format=CACHE_FORMAT_VERSION)
        return hashlib.sha1(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


def compute_proposals(image: np.ndarray, **settings) -> np.ndarray:
    """Selective Search boxes of one image.

    Args:
        image (np.ndarray): (H, W, 3) BGR or (H, W) gray uint8 image.
        **settings: Fields of :class:`SearchSettings` (defaults: DETReg's fast search at 128 px).

    Returns:
        np.ndarray: (n, 4) float32 xyxy boxes in whole pixels of ``image``, in Selective Search
        order, ``n <= max_boxes`` (n may be 0 for a flat image).
    """
    cfg = SearchSettings(**settings)
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    height, width = image.shape[:2]
    if cfg.resize:
        # INTER_AREA: the search runs on a downscaled image; area averaging avoids aliasing.
        image = cv2.resize(image, (cfg.resize, cfg.resize), interpolation=cv2.INTER_AREA)
    search = cv2.ximgproc.segmentation.createSelectiveSearchSegmentation()
    search.setBaseImage(image)
    getattr(search, MODES[cfg.mode])()
    _LIBC.srand(cfg.seed)
    xywh = search.process().astype(np.float64).reshape(-1, 4)
    scale = np.array([width / image.shape[1], height / image.shape[0]] * 2)
    boxes = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1) * scale
    boxes = np.round(boxes).clip(0, [width, height, width, height])
    box_w, box_h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    keep = ((box_w >= max(1., cfg.min_size * width)) & (box_h >= max(1., cfg.min_size * height))
            & (np.maximum(box_w / np.maximum(box_h, 1), box_h / np.maximum(box_w, 1))
               <= cfg.max_aspect))
    return boxes[keep][:cfg.max_boxes].astype(np.float32)


class ImageResult(NamedTuple):
    """Outcome of one image: boxes and size, or the reason it was skipped."""
    name: str
    boxes: Optional[np.ndarray]
    size: Optional[Tuple[int, int]]
    skip_reason: Optional[str]
    reused: bool


_worker_settings: SearchSettings = SearchSettings()
_worker_cache_dir: str = ''


def _init_worker(settings: SearchSettings, cache_dir: str) -> None:
    """Pool initializer: one OpenCV thread per process (the pool provides the parallelism)."""
    global _worker_settings, _worker_cache_dir
    cv2.setNumThreads(1)
    _worker_settings, _worker_cache_dir = settings, cache_dir


def _process_image(task: Tuple[str, str]) -> ImageResult:
    """Boxes of one image file, from the cache when its bytes and the settings were seen before."""
    name, path = task
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError as error:
        return ImageResult(name, None, None, f'cannot read the file ({error.strerror})', False)
    digest = hashlib.sha1(data).hexdigest()
    entry = osp.join(_worker_cache_dir, digest[:2], f'{digest}.npz')
    reused = osp.isfile(entry)
    if reused:
        with np.load(entry) as cached:
            boxes, size = cached['boxes'].astype(np.float32), tuple(cached['size'].tolist())
    else:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            return ImageResult(name, None, None, 'not a decodable image', False)
        boxes = compute_proposals(image, **dataclasses.asdict(_worker_settings))
        size = image.shape[:2]
        os.makedirs(osp.dirname(entry), exist_ok=True)
        tmp_entry = f'{entry}.{os.getpid()}.tmp'
        with open(tmp_entry, 'wb') as f:
            np.savez(f, boxes=boxes.astype(np.uint16), size=np.asarray(size, dtype=np.int32))
        os.replace(tmp_entry, entry)
    if len(boxes) < MIN_BOXES:
        reason = f'only {len(boxes)} proposal(s) after filtering, need {MIN_BOXES}'
        return ImageResult(name, None, size, reason, reused)
    return ImageResult(name, boxes, size, None, reused)


def list_images(ann: Optional[str], img_dir: str) -> List[str]:
    """Image names (relative to ``img_dir``): the COCO ``images`` of ``ann``, else the folder's."""
    if not osp.isdir(img_dir):
        raise FileNotFoundError(f'image folder {img_dir!r} does not exist (--img-dir)')
    if not ann:
        return list_image_files(img_dir)
    if not osp.isfile(ann):
        raise FileNotFoundError(f'annotation file {ann!r} does not exist (--ann); omit --ann to '
                                f'use every image in {img_dir}')
    with open(ann) as f:
        names = [image['file_name'] for image in json.load(f).get('images', [])]
    return list(dict.fromkeys(names))


def run_selective_search(names: Sequence[str], img_dir: str, out_dir: str, cache_dir: str,
                         settings: SearchSettings, workers: int,
                         progress: bool = True) -> dict:
    """Compute (or reuse) the boxes of ``names`` and write ``proposals.npz`` + ``meta.json``.

    Returns:
        dict: The meta data written to ``meta.json`` plus ``reused`` / ``computed`` counts.
    """
    if not names:
        raise ValueError(f'no images to process in {img_dir}')
    settings_cache = osp.join(cache_dir, settings.digest())
    tasks = [(name, osp.join(img_dir, name)) for name in names]
    workers = max(1, min(workers, len(tasks)))
    bar = dict(total=len(tasks), desc='selective search', unit='img', disable=not progress)
    if workers == 1:
        _init_worker(settings, settings_cache)
        results = [_process_image(task) for task in tqdm(tasks, **bar)]
    else:
        chunksize = max(1, min(16, len(tasks) // (4 * workers)))
        # spawn, not fork: a forked child of a process whose BLAS/OpenMP threads already ran
        # (a training or a test session) can hang in its first numpy call.
        context = multiprocessing.get_context('spawn')
        with context.Pool(workers, _init_worker, (settings, settings_cache)) as pool:
            results = list(tqdm(pool.imap(_process_image, tasks, chunksize), **bar))

    kept = [r for r in results if r.boxes is not None]
    skipped = [dict(file=r.name, reason=r.skip_reason) for r in results if r.boxes is None]
    os.makedirs(out_dir, exist_ok=True)
    save_proposal_file(osp.join(out_dir, 'proposals.npz'), [r.name for r in kept],
                       [r.size for r in kept], [r.boxes for r in kept])
    counts = [len(r.boxes) for r in kept]
    meta = dict(
        settings=dataclasses.asdict(settings), settings_hash=settings.digest(),
        opencv_version=cv2.__version__, images=len(results), with_proposals=len(kept),
        skipped_count=len(skipped), boxes=int(sum(counts)),
        boxes_per_image=dict(min=min(counts, default=0), max=max(counts, default=0),
                             mean=round(float(np.mean(counts)) if counts else 0., 2)),
        skipped=skipped)
    with open(osp.join(out_dir, 'meta.json'), 'w') as f:
        json.dump(meta, f, indent=2, sort_keys=True)
        f.write('\n')
    reused = sum(r.reused for r in results)
    return dict(meta, reused=reused, computed=len(results) - reused)


def default_cache_dir(out_dir: str) -> str:
    """``<parent of out_dir>/.ss_cache``: outside the output, which DVC deletes before a rerun."""
    return osp.join(osp.dirname(osp.normpath(out_dir)), '.ss_cache')


def parse_args(argv=None):
    defaults = SearchSettings()
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--ann', default='', help='COCO json listing the images (annotations are '
                        'ignored); omit it to use every image under --img-dir')
    parser.add_argument('--img-dir', required=True, help='image folder (COCO file_name root)')
    parser.add_argument('--out', required=True, help='output folder for proposals.npz, meta.json')
    parser.add_argument('--cache-dir', default=None,
                        help='per-image cache (default: <parent of --out>/.ss_cache)')
    parser.add_argument('--mode', choices=sorted(MODES), default=defaults.mode)
    parser.add_argument('--resize', type=int, default=defaults.resize,
                        help='search on a resize x resize copy; 0 = original size')
    parser.add_argument('--max-boxes', type=int, default=defaults.max_boxes)
    parser.add_argument('--min-size', type=float, default=defaults.min_size,
                        help='minimum box side as a fraction of the image side')
    parser.add_argument('--max-aspect', type=float, default=defaults.max_aspect)
    parser.add_argument('--seed', type=int, default=defaults.seed)
    parser.add_argument('--workers', type=int, default=os.cpu_count(),
                        help='worker processes (default: all cores)')
    parser.add_argument('--max-images', type=int, default=0,
                        help='only the first N images (0: all), for quick runs')
    parser.add_argument('--no-progress', action='store_true', help='hide the progress bar')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    try:
        settings = SearchSettings(mode=args.mode, resize=args.resize, max_boxes=args.max_boxes,
                                  min_size=args.min_size, max_aspect=args.max_aspect,
                                  seed=args.seed)
        names = list_images(args.ann, args.img_dir)
        if args.max_images > 0:
            names = names[:args.max_images]
        cache_dir = args.cache_dir or default_cache_dir(args.out)
        summary = run_selective_search(names, args.img_dir, args.out, cache_dir, settings,
                                       args.workers, progress=not args.no_progress)
    except (FileNotFoundError, ValueError) as error:
        sys.exit(f'selective_search: error: {error}')
    print(f'Selective Search: {summary["images"]} images, {summary["with_proposals"]} with '
          f'proposals ({summary["boxes"]} boxes, {summary["boxes_per_image"]["mean"]} per image), '
          f'{summary["skipped_count"]} skipped; reused {summary["reused"]} cached, computed '
          f'{summary["computed"]} (cache {cache_dir}) -> {osp.join(args.out, "proposals.npz")}')
    for item in summary['skipped']:
        print(f'  skipped {item["file"]}: {item["reason"]}')
    return summary


if __name__ == '__main__':
    main()
