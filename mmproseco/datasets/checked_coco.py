"""A COCO detection dataset that checks its input and repairs boxes it can repair."""
import json
import logging
from collections import Counter

from mmdet.datasets import CocoDataset
from mmdet.registry import DATASETS
from mmengine.fileio import exists, get_text
from mmengine.logging import print_log

from .data_errors import REBUILD_HINT, DataError

REQUIRED_KEYS = ('images', 'annotations', 'categories')
IMAGE_KEYS = ('id', 'file_name', 'width', 'height')
ANNOTATION_KEYS = ('id', 'image_id', 'category_id', 'bbox')
#: How many offending ids or paths an error message lists before it summarises.
SHOWN_IN_ERRORS = 5
#: Boxes narrower or lower than this (in pixels, after clipping) are dropped, as mmdet does.
MIN_BOX_SIDE = 1.0
#: A box counts as clipped when clipping moves one of its sides by more than this (pixels):
#: above the float error of ``x + w`` and the 0.005 px rounding of coordinates stored with two
#: decimals, far below a visible change.
CLIP_TOLERANCE = 0.01


def _preview(items):
    items = list(items)
    more = f' (and {len(items) - SHOWN_IN_ERRORS} more)' if len(items) > SHOWN_IN_ERRORS else ''
    return ', '.join(map(str, items[:SHOWN_IN_ERRORS])) + more


def check_coco_content(content, ann_file):
    """Raise :class:`DataError` unless ``content`` is a consistent COCO detection dict.

    Checks the top-level keys, the keys of every image and annotation, unique annotation ids,
    and that every annotation points to a listed image and a listed category.

    Args:
        content: the parsed JSON of ``ann_file``.
        ann_file (str): the file it came from, named in the error.
    """
    coco_fix = ('give a COCO detection json with top-level "images", "annotations" and '
                f'"categories" lists, or {REBUILD_HINT}')
    if not isinstance(content, dict):
        raise DataError(ann_file, f'is not a COCO file: its JSON is a {type(content).__name__},'
                        ' not an object', coco_fix)
    missing = [key for key in REQUIRED_KEYS if not isinstance(content.get(key), list)]
    if missing:
        raise DataError(ann_file, f'is not a COCO file: no list under {_preview(missing)}',
                        coco_fix)
    for image in content['images']:
        if not isinstance(image, dict) or any(key not in image for key in IMAGE_KEYS):
            raise DataError(ann_file, f'image entry {image!r:.120} lacks one of the keys '
                            f'{IMAGE_KEYS}', coco_fix)
    category_ids = {c.get('id') for c in content['categories'] if isinstance(c, dict)}
    image_ids = {image['id'] for image in content['images']}
    unknown_categories, unknown_images, ann_ids = set(), set(), set()
    for ann in content['annotations']:
        if not isinstance(ann, dict) or any(key not in ann for key in ANNOTATION_KEYS):
            raise DataError(ann_file, f'annotation {ann!r:.120} lacks one of the keys '
                            f'{ANNOTATION_KEYS}', coco_fix)
        if not (isinstance(ann['bbox'], list) and len(ann['bbox']) == 4):
            raise DataError(ann_file, f'annotation {ann["id"]} has bbox {ann["bbox"]!r}, '
                            'not [x, y, width, height]', coco_fix)
        if ann['id'] in ann_ids:
            raise DataError(ann_file, f'annotation id {ann["id"]} is used twice',
                            'give every annotation a unique "id"')
        ann_ids.add(ann['id'])
        if ann['category_id'] not in category_ids:
            unknown_categories.add(ann['category_id'])
        if ann['image_id'] not in image_ids:
            unknown_images.add(ann['image_id'])
    if unknown_categories:
        raise DataError(
            ann_file, f'annotations use category ids {_preview(sorted(unknown_categories))} '
            f'that are not in "categories" (ids {_preview(sorted(category_ids))})',
            'add those categories to "categories", or correct the "category_id" of the '
            'annotations')
    if unknown_images:
        raise DataError(
            ann_file, f'annotations refer to image ids {_preview(sorted(unknown_images))} '
            'that are not in "images"', 'add those images to "images", or remove the '
            'annotations')


def clip_xywh_box(bbox, width, height):
    """Clip a COCO ``[x, y, w, h]`` box to a ``width`` x ``height`` image.

    Returns:
        list[float] | None: the clipped box, or None when less than ``MIN_BOX_SIDE`` of it
        is left in either direction (zero-area boxes and boxes outside the image).
    """
    x, y, w, h = (float(v) for v in bbox)
    x1, y1 = min(max(x, 0.0), width), min(max(y, 0.0), height)
    x2, y2 = min(max(x + w, 0.0), width), min(max(y + h, 0.0), height)
    if x2 - x1 < MIN_BOX_SIDE or y2 - y1 < MIN_BOX_SIDE:
        return None
    return [x1, y1, x2 - x1, y2 - y1]


def clip_shift(bbox, clipped):
    """How far (pixels) clipping moved a side of the COCO ``[x, y, w, h]`` box ``bbox``.

    Compared side by side (``x``, ``y``, ``x + w``, ``y + h``), so that re-deriving the width
    ``x2 - x1`` of an unmoved box (42.67999999999999 for 42.68) counts as no move.
    """
    x, y, w, h = (float(v) for v in bbox)
    cx, cy, cw, ch = clipped
    return max(abs(x - cx), abs(y - cy), abs(x + w - (cx + cw)), abs(y + h - (cy + ch)))


@DATASETS.register_module()
class CheckedCocoDataset(CocoDataset):
    """:class:`mmdet.datasets.CocoDataset` that fails early, with a fix, on bad input.

    On top of ``CocoDataset`` it

    - raises :class:`DataError` naming the file and the fix when the annotation file is
      missing, is not COCO JSON, references categories or images it does not list, when a
      class of ``metainfo`` is not a category of the file, or when image files are missing;
    - clips boxes that stick out of their image by more than ``CLIP_TOLERANCE`` and drops
      the boxes with nothing left (zero area, or outside the image), and logs how many it
      clipped and dropped; the counts stay available as ``num_clipped_boxes`` and
      ``num_dropped_boxes``;
    - logs how many boxes belong to categories that ``metainfo`` leaves out (mmdet ignores
      them), kept as ``num_ignored_boxes``;
    - raises :class:`DataError` when ``filter_cfg`` keeps none of the images, e.g. a
      training split without any box of the classes.

    Images without boxes are kept unless ``filter_cfg=dict(filter_empty_gt=True)``, so the
    same class reads unlabeled pools. Arguments are those of ``CocoDataset``.
    """

    def load_data_list(self):
        self.num_clipped_boxes = 0
        self.num_dropped_boxes = 0
        content = self._check_annotation_file()
        self._count_ignored_boxes(content)
        data_list = super().load_data_list()
        self._check_image_files(data_list)
        if self.num_clipped_boxes or self.num_dropped_boxes:
            print_log(
                f'{self.ann_file}: clipped {self.num_clipped_boxes} boxes to their image and '
                f'dropped {self.num_dropped_boxes} boxes with zero area or outside the image',
                logger='current', level=logging.WARNING)
        return data_list

    def filter_data(self):
        kept = super().filter_data()
        if kept:
            return kept
        if not self.data_list:
            raise DataError(self.ann_file, 'lists no image',
                            f'give a COCO file with images, or {REBUILD_HINT}')
        boxed = sum(1 for info in self.data_list if info['instances'])
        reason = (f'none of its {len(self.data_list)} images has a box of the classes '
                  f'{_preview(self.metainfo["classes"])}' if not boxed else
                  f'filter_cfg={self.filter_cfg} keeps none of its {len(self.data_list)} '
                  f'images ({boxed} with boxes)')
        raise DataError(self.ann_file, reason,
                        'give a split with boxed images (check ann_file and the metainfo '
                        'classes), or set filter_cfg=dict(filter_empty_gt=False) to read it as '
                        'unlabeled images')

    def parse_data_info(self, raw_data_info):
        img_info = raw_data_info['raw_img_info']
        kept = []
        for ann in raw_data_info['raw_ann_info']:
            box = clip_xywh_box(ann['bbox'], img_info['width'], img_info['height'])
            if box is None or ann.get('area', 1) <= 0:
                self.num_dropped_boxes += 1
                continue
            if clip_shift(ann['bbox'], box) > CLIP_TOLERANCE:
                ann = dict(ann, bbox=box, area=box[2] * box[3])
                self.num_clipped_boxes += 1
            kept.append(ann)
        return super().parse_data_info(dict(raw_data_info, raw_ann_info=kept))

    def _check_annotation_file(self):
        """The parsed annotation file, after checking it is COCO with the metainfo classes."""
        if not exists(self.ann_file, backend_args=self.backend_args):
            raise DataError(self.ann_file, 'annotation file not found',
                            f'check data_root and ann_file in the config, or {REBUILD_HINT}')
        try:
            content = json.loads(get_text(self.ann_file, backend_args=self.backend_args))
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise DataError(self.ann_file, f'is not a JSON file ({err})',
                            f'give a COCO detection json, or {REBUILD_HINT}') from None
        check_coco_content(content, self.ann_file)
        names = [c.get('name') for c in content['categories']]
        absent = [c for c in self.metainfo['classes'] if c not in names]
        if absent:
            raise DataError(
                self.ann_file, f'the classes {_preview(absent)} of the dataset metainfo are '
                f'not categories of this file (it has {_preview(names)})',
                "set metainfo=dict(classes=(...)) in the dataset config to the file's "
                'category names')
        return content

    def _count_ignored_boxes(self, content):
        """Count (and log) the boxes of categories that ``metainfo`` leaves out."""
        names = {c['id']: c.get('name') for c in content['categories']}
        ignored = Counter(names[ann['category_id']] for ann in content['annotations']
                          if names[ann['category_id']] not in self.metainfo['classes'])
        self.num_ignored_boxes = sum(ignored.values())
        if self.num_ignored_boxes:
            print_log(
                f'{self.ann_file}: ignored {self.num_ignored_boxes} of its '
                f'{len(content["annotations"])} boxes, those of the categories '
                f'{_preview(sorted(ignored))} that the dataset metainfo does not list',
                logger='current', level=logging.WARNING)

    def _check_image_files(self, data_list):
        missing = [info['img_path'] for info in data_list
                   if not exists(info['img_path'], backend_args=self.backend_args)]
        if missing:
            raise DataError(
                self.ann_file, f'{len(missing)} of its {len(data_list)} images are missing: '
                f'{_preview(missing)}', "check data_root and data_prefix=dict(img=...) in the "
                f'config, or {REBUILD_HINT}')
