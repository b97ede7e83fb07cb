"""Unpaired two-domain image dataset for image-to-image translation."""
import json
import os.path as osp
from typing import List, Optional, Sequence

import numpy as np
from mmdet.registry import DATASETS
from mmengine.dataset import BaseDataset


def load_coco_images(ann_file: str, img_dir: str,
                     sites: Optional[Sequence[str]] = None) -> List[dict]:
    """Image entries of a COCO json, optionally only those whose ``site`` field is in ``sites``.

    Returns:
        list[dict]: ``img_path``, ``img_id``, ``height``, ``width`` (and ``site`` when present).
    """
    if not osp.isfile(ann_file):
        raise FileNotFoundError(f'{ann_file} not found: build the data first (see docs/i2i.md) or '
                                'fix ann_file/data_root in the config')
    with open(ann_file) as f:
        images = json.load(f).get('images', [])
    entries = []
    for image in images:
        if sites is not None and image.get('site') not in sites:
            continue
        entry = dict(
            img_path=osp.join(img_dir, image['file_name']),
            img_id=image['id'],
            height=image.get('height'),
            width=image.get('width'))
        if 'site' in image:
            entry['site'] = image['site']
        entries.append(entry)
    if not entries:
        hint = f' with site in {list(sites)}' if sites is not None else ''
        raise ValueError(f'{ann_file} has no images{hint}; check the split and the sites filter')
    return entries


@DATASETS.register_module()
class UnpairedDomainDataset(BaseDataset):
    """Target-domain images, each paired at random with a source-domain image.

    One item is ``dict(inputs=dict(source=..., target=...), data_samples=...)``: both images go
    through the same ``pipeline`` (ending in ``PackDetInputs``), the data sample is the target's.
    The length is the larger domain, as in CUT; item ``i`` shows target ``i mod N_target``. Its
    source partner is drawn from ``default_rng((seed, i, k))`` where ``k`` counts how often item
    ``i`` was fetched in this process, so pairs change every epoch and repeat run to run.

    Args:
        source (dict): ``ann_file`` (COCO json), ``img_dir`` and optional ``sites`` (keep images
            whose ``site`` field is listed), relative to ``data_root``.
        target (dict): the same for the target domain.
        pipeline (list): transforms applied to each image.
        seed (int): pairing seed.
    """

    METAINFO = dict(classes=())

    def __init__(self,
                 source: dict,
                 target: dict,
                 pipeline: Sequence[dict],
                 data_root: str = '',
                 seed: int = 0,
                 **kwargs) -> None:
        for name, domain in (('source', source), ('target', target)):
            missing = {'ann_file', 'img_dir'} - set(domain)
            if missing:
                raise ValueError(f'UnpairedDomainDataset: {name} needs {sorted(missing)}')
        self.source_cfg = dict(source)
        self.target_cfg = dict(target)
        self.seed = seed
        self._fetch_counts: dict = {}
        super().__init__(data_root=data_root, pipeline=pipeline, **kwargs)

    def _domain_images(self, cfg: dict) -> List[dict]:
        return load_coco_images(
            osp.join(self.data_root, cfg['ann_file']), osp.join(self.data_root, cfg['img_dir']),
            cfg.get('sites'))

    def load_data_list(self) -> List[dict]:
        self.source_images = self._domain_images(self.source_cfg)
        target_images = self._domain_images(self.target_cfg)
        length = max(len(self.source_images), len(target_images))
        return [target_images[i % len(target_images)] for i in range(length)]

    def source_partner(self, idx: int) -> int:
        """Index into ``source_images`` for this fetch of item ``idx``."""
        count = self._fetch_counts.get(idx, 0)
        self._fetch_counts[idx] = count + 1
        rng = np.random.default_rng((self.seed, idx, count))
        return int(rng.integers(len(self.source_images)))

    def prepare_data(self, idx: int) -> Optional[dict]:
        target = self.pipeline(self.get_data_info(idx))
        source_info = dict(self.source_images[self.source_partner(idx)], sample_idx=idx)
        source = self.pipeline(source_info)
        if target is None or source is None:
            return None
        return dict(
            inputs=dict(source=source['inputs'], target=target['inputs']),
            data_samples=target['data_samples'])
