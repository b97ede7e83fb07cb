"""A seeded, generated multi-class detection set with a designed class-similarity structure.

Eight classes built from three attributes (shape, colour, texture), so that some pairs
differ by one subtle cue and others by everything:

===============  ========  ======  =======  =================
class            shape     colour  texture  superclass
===============  ========  ======  =======  =================
red_disc         disc      red     solid    warm_solids
orange_disc      disc      orange  solid    warm_solids
red_square       square    red     solid    warm_solids
orange_square    square    orange  solid    warm_solids
blue_triangle    triangle  blue    solid    cool_triangles
cyan_triangle    triangle  cyan    solid    cool_triangles
striped_bar      bar       green   stripes  textured_bars
dotted_bar       bar       green   dots     textured_bars
===============  ========  ======  =======  =================

Ranking (rank 1 = most similar), from the number and subtlety of differing attributes:

* rank 1: one subtle difference: a neighbouring hue (red/orange 28 degrees apart,
  blue/cyan 37 degrees apart) or the texture of a bar (stripes/dots);
* rank 2 (warm solids only): same colour, different shape (disc/square);
* rank 3 (warm solids only): different colour and shape, same family (warm, solid, compact).

Triangles and bars have a single rank, the warm solids three, so classes have different
numbers of similar classes. Every image has 1-5 objects (12-64 px, amodal boxes, pairwise
box IoU <= 0.3 and at most half of either box shared, so objects are at most partly
occluded and never nested), distractor blobs of low saturation
under them and thin lines over them, on a smooth low-saturation background with pixel noise.
"""
import colorsys
import math
import multiprocessing
import os
import os.path as osp

import cv2
import numpy as np

from .deterministic_io import FLOAT_DECIMALS, save_png

CLASS_ATTRIBUTES = {
    'red_disc': dict(shape='disc', colour='red', texture='solid'),
    'orange_disc': dict(shape='disc', colour='orange', texture='solid'),
    'red_square': dict(shape='square', colour='red', texture='solid'),
    'orange_square': dict(shape='square', colour='orange', texture='solid'),
    'blue_triangle': dict(shape='triangle', colour='blue', texture='solid'),
    'cyan_triangle': dict(shape='triangle', colour='cyan', texture='solid'),
    'striped_bar': dict(shape='bar', colour='green', texture='stripes'),
    'dotted_bar': dict(shape='bar', colour='green', texture='dots'),
}
CLASSES = tuple(CLASS_ATTRIBUTES)
SUPERCLASSES = {
    'warm_solids': ['red_disc', 'orange_disc', 'red_square', 'orange_square'],
    'cool_triangles': ['blue_triangle', 'cyan_triangle'],
    'textured_bars': ['striped_bar', 'dotted_bar'],
}
SIMILARITY_RANKS = {
    'red_disc': [['orange_disc'], ['red_square'], ['orange_square']],
    'orange_disc': [['red_disc'], ['orange_square'], ['red_square']],
    'red_square': [['orange_square'], ['red_disc'], ['orange_disc']],
    'orange_square': [['red_square'], ['orange_disc'], ['red_disc']],
    'blue_triangle': [['cyan_triangle']],
    'cyan_triangle': [['blue_triangle']],
    'striped_bar': [['dotted_bar']],
    'dotted_bar': [['striped_bar']],
}
#: Palette (RGB) of the classes for visualisation, in ``CLASSES`` order.
PALETTE = [(220, 30, 30), (245, 140, 20), (150, 20, 20), (190, 100, 10), (30, 60, 220),
           (20, 200, 220), (40, 160, 60), (120, 200, 120)]
#: Centre hue (degrees) of each colour; objects jitter it by +-HUE_JITTER.
HUES = dict(red=0.0, orange=28.0, blue=225.0, cyan=188.0, green=120.0)
HUE_JITTER = 6.0
SPLIT_CODES = dict(train=0, val=1, test=2)
IMAGE_SIZE = 128
MIN_SIZE, MAX_SIZE = 12.0, 64.0
MIN_BAR_LENGTH = 18.0  # below this the stripes and dots are no longer visible
MAX_OBJECTS = 5
MAX_PAIR_IOU = 0.3
MAX_COVERED_FRACTION = 0.5


def similarity_table():
    """The content of ``class_similarity.json``."""
    return dict(classes=list(CLASSES), ranks=SIMILARITY_RANKS, superclasses=SUPERCLASSES,
                attributes=CLASS_ATTRIBUTES)


def _hsv_to_rgb(hue_deg, sat, val):
    return np.array(colorsys.hsv_to_rgb((hue_deg % 360.0) / 360.0, sat, val)) * 255.0


def _background(rng):
    """Smooth low-saturation colour field, (H, W, 3) float in [0, 255]."""
    base = _hsv_to_rgb(rng.uniform(0, 360), rng.uniform(0, 0.25), rng.uniform(0.3, 0.8))
    grid = rng.uniform(-40, 40, size=(rng.integers(3, 7), rng.integers(3, 7), 1))
    grid = grid + rng.uniform(-10, 10, size=grid.shape[:2] + (3, ))
    field = cv2.resize(grid.astype(np.float32), (IMAGE_SIZE, IMAGE_SIZE),
                       interpolation=cv2.INTER_CUBIC)
    return np.clip(base + field, 0, 255)


def _unit_polygon(shape, rng):
    """Outline of a shape centred at 0 with extent about 2, as (K, 2) float."""
    if shape == 'disc':
        t = np.linspace(0, 2 * np.pi, 32, endpoint=False)
        return np.stack([np.cos(t), rng.uniform(0.85, 1.0) * np.sin(t)], axis=1)
    if shape == 'square':
        return np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=np.float64)
    if shape == 'triangle':
        t = np.deg2rad([90.0, 210.0, 330.0])
        radius = rng.uniform(0.9, 1.0, size=3)
        return np.stack([radius * np.cos(t), radius * np.sin(t)], axis=1)
    half_width = rng.uniform(0.25, 0.4)  # bar: a long thin rectangle
    return np.array([[-1, -half_width], [1, -half_width], [1, half_width], [-1, half_width]])


def _place(unit, size, angle, rng):
    """Rotate, scale to a longest box side of ``size`` and translate inside the image."""
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    pts = unit @ rot.T
    pts *= size / (pts.max(axis=0) - pts.min(axis=0)).max()
    low, high = pts.min(axis=0), pts.max(axis=0)
    centre = rng.uniform(-low, IMAGE_SIZE - high)
    return pts + centre


def _box_of(pts):
    x1, y1 = np.clip(pts.min(axis=0), 0, IMAGE_SIZE)
    x2, y2 = np.clip(pts.max(axis=0), 0, IMAGE_SIZE)
    return np.array([x1, y1, x2, y2])


def _too_close(box, boxes):
    """Whether ``box`` overlaps a placed box by more than the occlusion limits."""
    for other in boxes:
        iw = min(box[2], other[2]) - max(box[0], other[0])
        ih = min(box[3], other[3]) - max(box[1], other[1])
        if iw <= 0 or ih <= 0:
            continue
        inter = iw * ih
        area, other_area = [(b[2] - b[0]) * (b[3] - b[1]) for b in (box, other)]
        if (inter / (area + other_area - inter) > MAX_PAIR_IOU
                or inter / min(area, other_area) > MAX_COVERED_FRACTION):
            return True
    return False


def _paint_polygon(img, pts, fill):
    """Alpha-blend an anti-aliased polygon into ``img`` in place, touching only its box.

    Args:
        img (np.ndarray): (H, W, 3) float image.
        pts (np.ndarray): (K, 2) outline in pixel coordinates.
        fill (np.ndarray | callable): an RGB colour (3,), or ``fill(xs, ys)`` returning the
            (h, w, 3) colours at the pixel centres ``xs``, ``ys`` (h, w) of the painted crop.
    """
    x1, y1 = np.clip(np.floor(pts.min(axis=0)).astype(int) - 1, 0, IMAGE_SIZE)
    x2, y2 = np.clip(np.ceil(pts.max(axis=0)).astype(int) + 1, 0, IMAGE_SIZE)
    if x2 <= x1 or y2 <= y1:
        return
    mask = np.zeros((y2 - y1, x2 - x1), np.uint8)
    local = np.round((pts - [x1, y1]) * 16).astype(np.int32)
    cv2.fillPoly(mask, [local], 255, cv2.LINE_AA, shift=4)
    alpha = (mask.astype(np.float32) / 255.0)[..., None]
    if callable(fill):
        ys, xs = np.mgrid[y1:y2, x1:x2].astype(np.float64) + 0.5
        fill = fill(xs, ys)
    crop = img[y1:y2, x1:x2]
    crop[:] = crop * (1 - alpha) + fill * alpha


def _texture(texture, colour, pts, angle, rng):
    """Fill of an object: its colour, or for bars ``fill(xs, ys)`` drawing the texture."""
    if texture == 'solid':
        return colour
    light = _hsv_to_rgb(rng.uniform(0, 360), rng.uniform(0, 0.15), rng.uniform(0.85, 1.0))
    centre = pts.mean(axis=0)
    period = rng.uniform(4.0, 6.0)

    def fill(xs, ys):
        along = (xs - centre[0]) * math.cos(angle) + (ys - centre[1]) * math.sin(angle)
        across = -(xs - centre[0]) * math.sin(angle) + (ys - centre[1]) * math.cos(angle)
        if texture == 'stripes':
            is_light = np.mod(along, period) < period / 2
        else:
            du, dv = np.mod(along, period) - period / 2, np.mod(across, period) - period / 2
            is_light = du**2 + dv**2 < (0.3 * period)**2
        return np.where(is_light[..., None], light, colour)

    return fill


def _draw_distractor_blob(img, rng):
    radius = rng.uniform(4, 12)
    n = int(rng.integers(7, 12))
    t = np.sort(rng.uniform(0, 2 * np.pi, n))
    unit = np.stack([np.cos(t), np.sin(t)], axis=1) * rng.uniform(0.4, 1.0, (n, 1))
    pts = unit * radius + rng.uniform(0, IMAGE_SIZE, 2)
    colour = _hsv_to_rgb(rng.uniform(0, 360), rng.uniform(0, 0.25), rng.uniform(0.2, 0.9))
    _paint_polygon(img, pts, colour)


def _draw_distractor_line(img, rng):
    p1, p2 = rng.uniform(0, IMAGE_SIZE, (2, 2))
    colour = tuple(float(c) for c in _hsv_to_rgb(rng.uniform(0, 360), rng.uniform(0, 1),
                                                 rng.uniform(0.2, 1.0)))
    cv2.line(img, tuple(int(v) for v in p1), tuple(int(v) for v in p2), colour, 1,
             cv2.LINE_AA)


def render_image(rng):
    """Draw one image.

    Returns:
        tuple[np.ndarray, list[tuple[int, np.ndarray]]]: the (128, 128, 3) uint8 RGB image
        and its objects as ``(class index, xyxy box)``.
    """
    img = _background(rng).astype(np.float32)
    n_blobs, n_lines = rng.integers(1, 5), rng.integers(0, 4)
    for _ in range(n_blobs):
        _draw_distractor_blob(img, rng)
    objects = []
    for _ in range(rng.integers(1, MAX_OBJECTS + 1)):
        label = int(rng.integers(len(CLASSES)))
        attrs = CLASS_ATTRIBUTES[CLASSES[label]]
        min_size = MIN_BAR_LENGTH if attrs['shape'] == 'bar' else MIN_SIZE
        unit = _unit_polygon(attrs['shape'], rng)
        for _attempt in range(20):
            size = math.exp(rng.uniform(math.log(min_size), math.log(MAX_SIZE)))
            angle = rng.uniform(0, 2 * np.pi)
            pts = _place(unit, size, angle, rng)
            box = _box_of(pts)
            if not _too_close(box, [b for _, b in objects]):
                break
        else:
            continue  # no room left for this object
        colour = _hsv_to_rgb(HUES[attrs['colour']] + rng.uniform(-HUE_JITTER, HUE_JITTER),
                             rng.uniform(0.75, 1.0), rng.uniform(0.65, 1.0))
        _paint_polygon(img, pts, _texture(attrs['texture'], colour, pts, angle, rng))
        objects.append((label, box))
    for _ in range(n_lines):
        _draw_distractor_line(img, rng)
    if rng.uniform() < 0.5:
        img = cv2.GaussianBlur(img, (3, 3), 0.6)
    img = img + rng.uniform(3, 10) * rng.standard_normal(img.shape, dtype=np.float32)
    return np.clip(np.round(img), 0, 255).astype(np.uint8), objects


def render_and_save(job):
    """Render image ``index`` of ``split`` and write it; return its objects.

    Args:
        job (tuple): ``(image_dir, seed, split, index)``.

    Returns:
        tuple[str, list]: the file name and ``render_image``'s objects.
    """
    image_dir, seed, split, index = job
    rgb, objects = render_image(np.random.default_rng([seed, SPLIT_CODES[split], index]))
    file_name = f'{split}_{index:05d}.png'
    save_png(rgb, osp.join(image_dir, file_name))
    return file_name, objects


def build(out_dir, seed, sizes, workers=1):
    """Write ``images/*.png`` under ``out_dir`` and return the COCO dicts of every split.

    Every image has its own generator, seeded by ``(seed, split, index)``, so a smaller
    build is a prefix of a larger one and the result does not depend on the number of
    worker processes.

    Args:
        out_dir (str): dataset folder. seed (int): base seed.
        sizes (dict[str, int]): number of images of 'train', 'val' and 'test'.
        workers (int): processes that render images.

    Returns:
        dict[str, dict]: ``{'unlabeled'|'train'|'val'|'test': coco_dict}``; 'unlabeled'
        holds the train images without annotations.
    """
    image_dir = osp.join(out_dir, 'images')
    os.makedirs(image_dir, exist_ok=True)
    categories = [dict(id=i + 1, name=name,
                       supercategory=next(s for s, m in SUPERCLASSES.items() if name in m))
                  for i, name in enumerate(CLASSES)]
    jobs = [(image_dir, seed, split, index) for split in ('train', 'val', 'test')
            for index in range(sizes[split])]
    if workers > 1:
        with multiprocessing.Pool(workers) as pool:
            rendered = pool.map(render_and_save, jobs, chunksize=64)
    else:
        rendered = [render_and_save(job) for job in jobs]

    splits = {split: dict(images=[], annotations=[], categories=categories,
                          info=dict(description=f'generated shapes, {split} split',
                                    license='Apache-2.0 (mmproseco)', seed=seed))
              for split in ('train', 'val', 'test')}
    for image_id, ((_, _, split, _), (file_name, objects)) in enumerate(zip(jobs, rendered), 1):
        images, annotations = splits[split]['images'], splits[split]['annotations']
        images.append(dict(id=image_id, file_name=file_name, width=IMAGE_SIZE,
                           height=IMAGE_SIZE))
        for label, box in objects:
            x1, y1, x2, y2 = (round(float(v), FLOAT_DECIMALS) for v in box)
            w, h = round(x2 - x1, FLOAT_DECIMALS), round(y2 - y1, FLOAT_DECIMALS)
            annotations.append(dict(
                id=len(annotations) + 1, image_id=image_id, category_id=label + 1,
                bbox=[x1, y1, w, h], area=w * h, iscrowd=0))
    splits['unlabeled'] = dict(
        images=splits['train']['images'], annotations=[], categories=categories,
        info=dict(description='generated shapes, train images without annotations',
                  license='Apache-2.0 (mmproseco)', seed=seed))
    return splits
