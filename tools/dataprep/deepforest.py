"""Real aerial tree-crown tiles from the data bundled in the ``deepforest==2.1.0`` wheel (MIT).

The wheel ships NEON aerial RGB orthophotos with Pascal-VOC boxes. They are cut into
non-overlapping 400x400 tiles (the recipe of ``docs/data.md``): a box is clipped to its
tile and kept when the clipped part is at least 2 px wide and high and holds at least half
of the box's area; tiles with no kept box are dropped. This gives 36 labelled tiles and 762
boxes. The labels ``Tree``/``Dead``/``Alive`` are merged into one class ``tree``; the NEON
site (YELL, OSBS, SOAP) is kept on every image entry.

Splits (all seeded):

* ``test``: the two tiles from OSBS and SOAP (a small held-out domain shift; filter on
  ``site`` for the in-site test) plus a share of the YELL tiles;
* ``val`` / ``train``: the remaining YELL tiles, so ``train`` is a single domain;
* ``unlabeled``: overlapping tiles (stride 200 by default) over every source image and the
  unannotated ``SOAP_031.png``, except tiles that overlap a val or test tile, so that
  pretraining never sees evaluation pixels.

The pelican drone photo in the wheel (``AWPE Pigeon Lake 2020 DJI_0005.JPG``) shows birds,
not trees, and is left out.
"""
import hashlib
import io
import os
import os.path as osp
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile

import numpy as np
from PIL import Image

from .deterministic_io import FLOAT_DECIMALS, PrepareDataError, save_png

VERSION = '2.1.0'
WHEEL_NAME = f'deepforest-{VERSION}-py3-none-any.whl'
#: sha256 of the PyPI wheel; the tool refuses any other file.
WHEEL_SHA256 = '8c2798d8e9be7f0004b194fe207b76c1d9fff6e711b3db67b9508dcd5d00ae54'
DATA_DIR_IN_WHEEL = 'deepforest/data/'
#: Annotated images without a VOC file that still belong to the forest domain.
UNANNOTATED_IMAGES = ('SOAP_031.png', )
SITES = ('YELL', 'OSBS', 'SOAP')
#: The site of the train and val tiles; the others only appear in test and unlabeled.
TRAIN_SITE = 'YELL'
CATEGORY = {'id': 1, 'name': 'tree'}
MIN_CLIPPED_SIDE = 2.0
MIN_KEPT_AREA_FRACTION = 0.5


def default_cache_dir():
    """``~/.cache/mmproseco``, or ``$MMPROSECO_CACHE`` when set."""
    return os.environ.get('MMPROSECO_CACHE', osp.expanduser('~/.cache/mmproseco'))


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def fetch_wheel(cache_dir, wheel_path=None):
    """Return the path of the verified deepforest wheel, downloading it when needed.

    Args:
        cache_dir (str): where ``pip download`` puts the wheel (outside ``data/``).
        wheel_path (str, optional): an already downloaded wheel (offline machines).

    Raises:
        PrepareDataError: if the download fails or the file's sha256 is not the pinned one.
    """
    if wheel_path is None:
        wheel_path = osp.join(cache_dir, WHEEL_NAME)
        if not osp.isfile(wheel_path):
            os.makedirs(cache_dir, exist_ok=True)
            cmd = [sys.executable, '-m', 'pip', 'download', '--no-deps', '--quiet',
                   f'deepforest=={VERSION}', '-d', cache_dir]
            result = subprocess.run(cmd, capture_output=True, text=True)
            if result.returncode != 0 or not osp.isfile(wheel_path):
                raise PrepareDataError(
                    f'could not download {WHEEL_NAME} with `{" ".join(cmd)}`:\n'
                    f'{result.stderr.strip()}\nFix: make PyPI reachable, or download the '
                    'wheel elsewhere and pass it with --deepforest-wheel PATH.')
    elif not osp.isfile(wheel_path):
        raise PrepareDataError(f'--deepforest-wheel {wheel_path} does not exist. Fix: pass '
                               f'the path of {WHEEL_NAME} (`pip download --no-deps '
                               f'deepforest=={VERSION}`).')
    digest = sha256_of(wheel_path)
    if digest != WHEEL_SHA256:
        raise PrepareDataError(
            f'{wheel_path} has sha256 {digest}, expected {WHEEL_SHA256} ({WHEEL_NAME} from '
            'PyPI). Fix: delete the file and rerun, so that the tool downloads it again.')
    return wheel_path


def site_of(file_name):
    """The NEON site code contained in a deepforest file name."""
    for site in SITES:
        if site in file_name:
            return site
    raise PrepareDataError(f'no site among {SITES} in deepforest file name {file_name!r}')


def read_voc(xml_bytes):
    """Parse a VOC file into ``(image file name, boxes (N, 4) xyxy float array)``."""
    root = ET.fromstring(xml_bytes)
    boxes = [[float(obj.findtext(f'bndbox/{key}')) for key in ('xmin', 'ymin', 'xmax', 'ymax')]
             for obj in root.iter('object')]
    return root.findtext('filename'), np.asarray(boxes, dtype=np.float64).reshape(-1, 4)


def tile_origins(size, tile, stride):
    """Start offsets of the tiles along one axis; the remainder at the end is dropped."""
    return list(range(0, max(size - tile, 0) + 1, stride))


def clip_boxes_to_tile(boxes, x0, y0, tile_w, tile_h):
    """Boxes kept in a tile, in tile coordinates, following the clip rule.

    Args:
        boxes (np.ndarray): (N, 4) xyxy boxes in image coordinates.
        x0, y0 (int): tile origin. tile_w, tile_h (int): tile size.

    Returns:
        np.ndarray: (M, 4) xyxy boxes, M <= N, clipped to ``[0, tile_w] x [0, tile_h]``.
    """
    shifted = boxes - np.array([x0, y0, x0, y0], dtype=np.float64)
    clipped = np.clip(shifted, 0, [tile_w, tile_h, tile_w, tile_h])
    width, height = clipped[:, 2] - clipped[:, 0], clipped[:, 3] - clipped[:, 1]
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    keep = ((width >= MIN_CLIPPED_SIDE) & (height >= MIN_CLIPPED_SIDE)
            & (width * height >= MIN_KEPT_AREA_FRACTION * area))
    return clipped[keep]


def _overlaps(a, b):
    """Whether two ``(x0, y0, x1, y1)`` rectangles share a positive area."""
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


def _load_sources(wheel_path):
    """Source images (RGB arrays) and their boxes, in sorted file order."""
    Image.MAX_IMAGE_PIXELS = None  # crop2 is 2299x2472 (a 15 MB PNG), above PIL's guard
    sources = []
    with zipfile.ZipFile(wheel_path) as wheel:
        names = set(wheel.namelist())
        xml_names = sorted(n for n in names if n.startswith(DATA_DIR_IN_WHEEL)
                           and n.endswith('.xml'))
        entries = [(*read_voc(wheel.read(n)), True) for n in xml_names]
        entries += [(n, np.zeros((0, 4)), False) for n in UNANNOTATED_IMAGES]
        for file_name, boxes, annotated in entries:
            member = DATA_DIR_IN_WHEEL + file_name
            if member not in names:
                raise PrepareDataError(f'{member} is missing from {wheel_path}')
            with Image.open(io.BytesIO(wheel.read(member))) as img:
                rgb = np.asarray(img.convert('RGB'))
            sources.append(dict(stem=osp.splitext(file_name)[0], site=site_of(file_name),
                                rgb=rgb, boxes=boxes, annotated=annotated))
    return sources


def _split_labelled(tiles, seed, val_fraction, test_fraction):
    """Assign 'train'/'val'/'test' to the labelled tiles (seeded shuffle of TRAIN_SITE tiles)."""
    train_site_tiles = [t for t in tiles if t['site'] == TRAIN_SITE]
    order = np.random.default_rng(seed).permutation(len(train_site_tiles))
    n_test = int(round(test_fraction * len(train_site_tiles)))
    n_val = int(round(val_fraction * len(train_site_tiles)))
    for rank, index in enumerate(order):
        train_site_tiles[index]['split'] = ('test' if rank < n_test else
                                            'val' if rank < n_test + n_val else 'train')
    for tile in tiles:
        tile.setdefault('split', 'test')  # the tiles of the other sites: a held-out domain


def build(out_dir, wheel_path, seed, tile=400, pool_stride=200, val_fraction=0.15,
          test_fraction=0.2):
    """Write ``images/*.png`` under ``out_dir`` and return the COCO dicts of every split.

    Returns:
        dict[str, dict]: ``{'unlabeled'|'train'|'val'|'test': coco_dict}``.
    """
    sources = _load_sources(wheel_path)
    labelled = []
    for src in sources:
        if not src['annotated']:
            continue
        height, width = src['rgb'].shape[:2]
        for y0 in tile_origins(height, tile, tile):
            for x0 in tile_origins(width, tile, tile):
                tile_w, tile_h = min(tile, width), min(tile, height)
                boxes = clip_boxes_to_tile(src['boxes'], x0, y0, tile_w, tile_h)
                if len(boxes):
                    labelled.append(dict(src=src, x0=x0, y0=y0, w=tile_w, h=tile_h,
                                         site=src['site'], boxes=boxes))
    _split_labelled(labelled, seed, val_fraction, test_fraction)

    held_out = [(t['src']['stem'], (t['x0'], t['y0'], t['x0'] + t['w'], t['y0'] + t['h']))
                for t in labelled if t['split'] != 'train']
    pool = []
    for src in sources:
        height, width = src['rgb'].shape[:2]
        for y0 in tile_origins(height, tile, pool_stride):
            for x0 in tile_origins(width, tile, pool_stride):
                tile_w, tile_h = min(tile, width), min(tile, height)
                rect = (x0, y0, x0 + tile_w, y0 + tile_h)
                if not any(stem == src['stem'] and _overlaps(rect, other)
                           for stem, other in held_out):
                    pool.append(dict(src=src, x0=x0, y0=y0, w=tile_w, h=tile_h,
                                     site=src['site'], boxes=None, split='unlabeled'))

    image_dir = osp.join(out_dir, 'images')
    os.makedirs(image_dir, exist_ok=True)
    image_entries = {}  # file name -> COCO image entry, shared by every split
    for t in sorted(labelled + pool, key=lambda t: (t['src']['stem'], t['y0'], t['x0'])):
        file_name = f"{t['src']['stem']}_{t['x0']}_{t['y0']}.png"
        t['file_name'] = file_name
        if file_name in image_entries:
            continue
        image_entries[file_name] = dict(
            id=len(image_entries) + 1, file_name=file_name, width=t['w'], height=t['h'],
            site=t['site'], source_image=t['src']['stem'], tile_origin=[t['x0'], t['y0']])
        crop = t['src']['rgb'][t['y0']:t['y0'] + t['h'], t['x0']:t['x0'] + t['w']]
        save_png(np.ascontiguousarray(crop), osp.join(image_dir, file_name))

    splits = {}
    for split in ('unlabeled', 'train', 'val', 'test'):
        members = sorted((t for t in labelled + pool if t['split'] == split),
                         key=lambda t: image_entries[t['file_name']]['id'])
        images, annotations = [], []
        for t in members:
            image = image_entries[t['file_name']]
            images.append(image)
            for box in (t['boxes'] if t['boxes'] is not None else []):
                x1, y1, x2, y2 = (round(float(v), FLOAT_DECIMALS) for v in box)
                w, h = round(x2 - x1, FLOAT_DECIMALS), round(y2 - y1, FLOAT_DECIMALS)
                annotations.append(dict(
                    id=len(annotations) + 1, image_id=image['id'], category_id=CATEGORY['id'],
                    bbox=[x1, y1, w, h], area=w * h, iscrowd=0))
        splits[split] = dict(
            images=images, annotations=annotations, categories=[dict(CATEGORY)],
            info=dict(description=f'deepforest=={VERSION} NEON tree crowns, {split} split',
                      license='MIT (deepforest)', seed=seed))
    return splits
