import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmdet.registry import TRANSFORMS
from mmdet.structures.bbox import HorizontalBoxes


@TRANSFORMS.register_module()
class SampleProposals(BaseTransform):
    """Draw K random Selective Search proposals as the boxes of the image.

    ProSeCo localizes "K random boxes" of Selective Search per image. A new draw is made at every
    call, from numpy's global random state (mmengine seeds it per dataloader worker). The boxes
    become ``gt_bboxes`` so that mmdet's geometric transforms (flip, resize, crop) move them with
    the image and ``PackDetInputs`` packs them into ``gt_instances``.

    Required Keys:

    - proposals (np.ndarray): (n, 4) float32 xyxy, e.g. from ``UnlabeledDetDataset``.

    Added Keys:

    - gt_bboxes (HorizontalBoxes): (K, 4), K = min(num_proposals, n), distinct proposals.
    - gt_bboxes_labels (np.int64): (K, ) zeros; proposals are class-agnostic.
    - gt_ignore_flags (bool): (K, ) False.

    Removed Keys:

    - proposals: consumed here (``PackDetInputs`` would otherwise treat them as scored
      proposals and geometric transforms would leave them unmoved).

    Args:
        num_proposals (int): K, boxes drawn without replacement per call; all of them when an
            image has fewer. Defaults to 30 (DETReg's ``max_prop``).
    """

    def __init__(self, num_proposals: int = 30) -> None:
        if isinstance(num_proposals, bool) or not isinstance(num_proposals, (int, np.integer)) \
                or num_proposals < 1:
            raise ValueError(f'SampleProposals: num_proposals must be an integer >= 1, '
                             f'got {num_proposals!r}')
        self.num_proposals = int(num_proposals)

    @cache_randomness
    def _choose(self, num_available: int) -> np.ndarray:
        """Indices of the drawn proposals, (min(K, num_available), ) distinct."""
        if num_available <= self.num_proposals:
            return np.arange(num_available)
        return np.random.choice(num_available, self.num_proposals, replace=False)

    def transform(self, results: dict) -> dict:
        if 'proposals' not in results:
            raise KeyError(f'SampleProposals needs results["proposals"] ((n, 4) xyxy) of '
                           f'{results.get("img_path", "the image")}; load the data with '
                           f'UnlabeledDetDataset and a proposal_file.')
        proposals = np.asarray(results.pop('proposals'), dtype=np.float32).reshape(-1, 4)
        chosen = proposals[self._choose(len(proposals))]
        results['gt_bboxes'] = HorizontalBoxes(chosen)
        results['gt_bboxes_labels'] = np.zeros(len(chosen), dtype=np.int64)
        results['gt_ignore_flags'] = np.zeros(len(chosen), dtype=bool)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(num_proposals={self.num_proposals})'
