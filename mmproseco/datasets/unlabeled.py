"""Unlabeled images with cached Selective Search proposals, for ProSeCo pretraining.

The proposal file is written by ``tools/selective_search.py``; its layout is defined here, next to
the one reader of it, so the writer and the reader cannot drift apart:

``proposals.npz`` (a zip of ``.npy`` arrays, like ``np.savez_compressed``; read with ``np.load``)
    - ``file_names`` (n,) str: image path relative to the image folder (the COCO ``file_name``).
    - ``heights``, ``widths`` (n,) int32: size of the image the boxes were computed on.
    - ``offsets`` (n + 1,) int64: boxes of image ``i`` are ``boxes[offsets[i]:offsets[i + 1]]``.
    - ``boxes`` (total, 4) uint16: x1, y1, x2, y2 in original pixels, in Selective Search order.
"""
import json
import logging
import os
import os.path as osp
import zipfile
from typing import Dict, List, Sequence, Tuple

import numpy as np
from mmdet.datasets import BaseDetDataset
from mmdet.registry import DATASETS
from mmengine.logging import print_log
from mmengine.utils import scandir

from .data_errors import DataError

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
PROPOSAL_FILE_KEYS = ('file_names', 'heights', 'widths', 'offsets', 'boxes')
#: Images with fewer proposals are skipped: they cannot give a localization target worth
#: learning (tools/selective_search.py skips them with the same threshold, MIN_BOXES).
MIN_PROPOSALS = 2
# A fixed zip timestamp makes the file a function of its content only (stable DVC hashes).
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def list_image_files(img_dir: str) -> List[str]:
    """Image files under ``img_dir`` (recursive), as sorted '/'-separated relative paths."""
    names = scandir(img_dir, suffix=IMAGE_SUFFIXES, recursive=True, case_sensitive=False)
    return sorted(name.replace(os.sep, '/') for name in names)


def save_proposal_file(path: str, file_names: Sequence[str], sizes: Sequence[Tuple[int, int]],
                       boxes: Sequence[np.ndarray]) -> None:
    """Write per-image boxes as one flat proposal file (layout in the module docstring).

    Args:
        path (str): Output ``.npz`` path; written atomically.
        file_names (Sequence[str]): Image keys, one per image.
        sizes (Sequence[tuple[int, int]]): (height, width) of each image.
        boxes (Sequence[np.ndarray]): (n_i, 4) xyxy boxes in whole pixels, one array per image.
    """
    counts = [len(b) for b in boxes]
    flat = np.concatenate([np.asarray(b).reshape(-1, 4) for b in boxes] or [np.zeros((0, 4))])
    if flat.size and (flat.min() < 0 or flat.max() > np.iinfo(np.uint16).max):
        raise ValueError(f'{path}: box coordinates must lie in [0, 65535] to be stored as uint16')
    arrays = dict(
        file_names=np.asarray(list(file_names), dtype=str),
        heights=np.asarray([h for h, _ in sizes], dtype=np.int32),
        widths=np.asarray([w for _, w in sizes], dtype=np.int32),
        offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        boxes=np.round(flat).astype(np.uint16))
    tmp_path = f'{path}.tmp'
    with zipfile.ZipFile(tmp_path, 'w', compression=zipfile.ZIP_DEFLATED) as archive:
        for key, array in arrays.items():
            member = zipfile.ZipInfo(f'{key}.npy', date_time=_ZIP_EPOCH)
            member.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(member, 'w', force_zip64=True) as stream:
                np.lib.format.write_array(stream, array, allow_pickle=False)
    os.replace(tmp_path, path)


def load_proposal_file(path: str) -> Dict[str, Tuple[np.ndarray, Tuple[int, int]]]:
    """Read a proposal file into ``{file_name: (boxes (n, 4) float32 xyxy, (height, width))}``."""
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'Proposal file {path!r} does not exist. Compute it with '
            f'`python tools/selective_search.py --ann <coco.json> --img-dir <images> '
            f'--out {osp.dirname(path) or "."}` (or `dvc repro` the proposals stage).')
    with np.load(path, allow_pickle=False) as data:
        missing = [key for key in PROPOSAL_FILE_KEYS if key not in data.files]
        if missing:
            raise ValueError(f'{path} is not a Selective Search proposal file (missing arrays '
                             f'{missing}); recompute it with tools/selective_search.py.')
        names, heights, widths, offsets, boxes = (data[key] for key in PROPOSAL_FILE_KEYS)
    boxes = boxes.astype(np.float32)
    return {
        str(name): (boxes[offsets[i]:offsets[i + 1]], (int(heights[i]), int(widths[i])))
        for i, name in enumerate(names)
    }


@DATASETS.register_module()
class UnlabeledDetDataset(BaseDetDataset):
    """Unlabeled images plus their cached Selective Search proposals.

    The images come from a COCO json (its ``images``; annotations are ignored) or, with
    ``ann_file=''``, from every image file under ``data_prefix['img']``. Each data info holds
    ``img_path``, ``img_id``, ``height``, ``width`` and ``proposals`` ((n, 4) float32 xyxy in
    original pixels). Images missing from ``proposal_file`` or with fewer than ``MIN_PROPOSALS``
    proposals there are skipped (they cannot give a localization target) and counted in the log;
    a proposal file that leaves no image is an error. Pair it with the ``SampleProposals``
    transform, which turns ``proposals`` into ``gt_bboxes``.

    Args:
        proposal_file (str): ``proposals.npz`` written by ``tools/selective_search.py``. Relative
            paths are joined with ``data_root``, as mmdet does for ``ann_file``.
        ann_file (str): COCO json listing the images, or ``''`` to use a plain image folder.
        data_prefix (dict): ``dict(img=<image folder>)``; COCO ``file_name``s are relative to it.
        **kwargs: Other arguments of :class:`mmdet.datasets.BaseDetDataset`.
    """

    METAINFO = {'classes': ('object', ), 'palette': [(220, 20, 60)]}

    def __init__(self, *args, proposal_file: str = None, **kwargs) -> None:
        if not proposal_file:
            raise ValueError('UnlabeledDetDataset: `proposal_file` is required (the proposals.npz '
                             'written by tools/selective_search.py).')
        super().__init__(*args, proposal_file=proposal_file, **kwargs)

    def load_data_list(self) -> List[dict]:
        """List the images of the COCO json, or of the image folder when ``ann_file`` is empty."""
        img_dir = self.data_prefix.get('img', '')
        if not osp.isdir(img_dir):
            raise FileNotFoundError(
                f'Image folder {img_dir!r} (data_prefix.img) does not exist. Build the data first '
                f'(`python tools/prepare_data.py`) or fix data_root/data_prefix in the config.')
        if not self.ann_file:
            return [
                dict(img_path=osp.join(img_dir, name), file_name=name, img_id=index,
                     height=None, width=None)
                for index, name in enumerate(list_image_files(img_dir))
            ]
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(
                f'Annotation file {self.ann_file!r} does not exist; fix ann_file, or set '
                f'ann_file=\'\' to use every image in {img_dir}.')
        with open(self.ann_file) as f:
            images = json.load(f).get('images', [])
        return [
            dict(img_path=osp.join(img_dir, image['file_name']), file_name=image['file_name'],
                 img_id=image['id'], height=image.get('height'), width=image.get('width'))
            for image in images
        ]

    def load_proposals(self) -> None:
        """Attach each image's proposals; drop images that have none."""
        if not osp.isabs(self.proposal_file):
            self.proposal_file = osp.join(self.data_root, self.proposal_file)
        proposals = load_proposal_file(self.proposal_file)
        kept, missing, too_few = [], 0, 0
        for data_info in self.data_list:
            name = data_info.pop('file_name')
            if name not in proposals:
                missing += 1
                continue
            boxes, (height, width) = proposals[name]
            if len(boxes) < MIN_PROPOSALS:
                too_few += 1
                continue
            if data_info['height'] is not None and (data_info['height'], data_info['width']) != (
                    height, width):
                raise ValueError(
                    f'{self.proposal_file}: proposals of {name} were computed on a '
                    f'{width}x{height} image but {self.ann_file} says '
                    f'{data_info["width"]}x{data_info["height"]}; '
                    f'recompute the proposals with tools/selective_search.py.')
            data_info.update(height=height, width=width, proposals=boxes)
            kept.append(data_info)
        skipped = (f'{missing} of the {len(self.data_list)} images of '
                   f'{self.ann_file or self.data_prefix["img"]} have no proposals in it and '
                   f'{too_few} fewer than {MIN_PROPOSALS}')
        if not kept:
            raise DataError(self.proposal_file, f'gives no usable image: {skipped}',
                            'compute the proposals on these images with '
                            '`python tools/selective_search.py` (file names relative to the '
                            'image folder), and check data_prefix.img')
        if missing or too_few:
            print_log(f'UnlabeledDetDataset: skipped {missing + too_few} images: {skipped} '
                      f'({self.proposal_file})', logger='current', level=logging.WARNING)
        self.data_list = kept
