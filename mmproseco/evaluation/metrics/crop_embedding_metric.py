"""Base of the metrics that read the crop embeddings of a prototype set and a query set."""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MessageHub
from mmengine.visualization import Visualizer


class CropEmbeddingMetric(BaseMetric):
    """Collect per-crop embeddings, features and labels, split by ``crop_role``.

    The evaluated dataset is a ``ConcatDataset`` of an ``ObjectCropDataset`` with
    ``role='prototype'`` (training crops, withheld classes removed) and one with
    ``role='query'``. Subclasses get both sets as dicts of numpy arrays ``labels (n,)``,
    ``embeddings (n, d)`` and ``features (n, c)`` in :meth:`compute_from_sets`.

    Args:
        out_dir (str, optional): Also write the metric's PNG figures to this folder. Figures
            always go to the runner's visualizer (``<work_dir>/<time>/vis_data/vis_image``).
        collect_device, prefix: See :class:`mmengine.evaluator.BaseMetric`.
    """

    def __init__(self,
                 out_dir: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.out_dir = out_dir

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if 'crop_role' not in sample:
                raise ValueError(f'{self.__class__.__name__} needs samples from '
                                 'ObjectCropDataset (they carry the crop_role metainfo)')
            pred = sample['pred_instances']
            self.results.append(dict(
                role=sample['crop_role'],
                labels=sample['gt_instances']['labels'].cpu().numpy(),
                embeddings=pred['embeddings'].cpu().numpy(),
                features=pred['features'].cpu().numpy()))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        sets = {}
        for role in ('prototype', 'query'):
            parts = [r for r in results if r['role'] == role]
            if not parts:
                raise ValueError(f'{self.__class__.__name__} got no {role!r} crops; the '
                                 'evaluation dataset must be a ConcatDataset of an '
                                 "ObjectCropDataset(role='prototype') and one with role='query'")
            sets[role] = {key: np.concatenate([p[key] for p in parts])
                          for key in ('labels', 'embeddings', 'features')}
        return self.compute_from_sets(sets['prototype'], sets['query'])

    def compute_from_sets(self, prototype: dict, query: dict) -> Dict[str, float]:
        raise NotImplementedError

    @property
    def class_names(self) -> List[str]:
        return list((self.dataset_meta or {}).get('classes', ()))

    def save_figure(self, name: str, image: np.ndarray) -> None:
        """Give an RGB ``(H, W, 3)`` figure to the runner's visualizer and to ``out_dir``."""
        if self.out_dir is not None:
            os.makedirs(self.out_dir, exist_ok=True)
            cv2.imwrite(osp.join(self.out_dir, f'{name}.png'), image[..., ::-1])
        try:
            visualizer = Visualizer.get_current_instance()
        except RuntimeError:  # evaluated outside a Runner
            return
        step = MessageHub.get_current_instance().get_info('iter', 0)
        visualizer.add_image(name, image, step=step)
