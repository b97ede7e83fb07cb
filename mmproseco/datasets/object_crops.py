"""Images with the boxes to crop, for the object-crop embedders."""
import copy
from typing import List, Optional, Sequence, Union

from mmdet.registry import DATASETS
from mmengine.dataset import BaseDataset


@DATASETS.register_module()
class ObjectCropDataset(BaseDataset):
    """Wrap a detection dataset so that its boxes become object crops.

    Any mmdet detection dataset works (``CocoDataset``, ``CheckedCocoDataset``,
    ``VOCDataset``); a COCO json of detections written by ``tools/detect_boxes.py`` is read like
    ground truth. Samples stay whole images (cropping happens batched in
    :class:`ObjectCropDataPreprocessor`); images without boxes left are dropped.

    The ``role`` tells the evaluation metrics what a sample is for and decides what happens to
    the objects of ``withheld_classes`` (the out-of-distribution classes):

    * ``'train'``: training crops; withheld objects are removed.
    * ``'prototype'``: crops that build the class prototypes; withheld objects are removed.
    * ``'query'``: crops to classify and score; withheld objects are kept (they are the OOD set).

    Every data sample gets the metainfo ``crop_role``. Validation and test sets are a
    ``ConcatDataset`` of a ``'prototype'`` and a ``'query'`` dataset.

    Args:
        dataset (dict | BaseDataset): The detection dataset (its own ``pipeline`` is unused).
        pipeline (list[dict]): Loading pipeline, ending with ``PackDetInputs``.
        role (str): ``'train'``, ``'prototype'`` or ``'query'``.
        withheld_classes (Sequence[str]): Class names held out of training. Default none.
        keep_ignored (bool): Crop ignored boxes too (VOC ``difficult``, COCO ``iscrowd``), as
            the original did for VOC. Default False.
        indices (int | Sequence[int], optional): Keep only these images (after filtering), or
            the first ``indices`` of them, e.g. a smaller prototype set.
        lazy_init (bool): Defer loading the annotations.
    """

    ROLES = ('train', 'prototype', 'query')

    def __init__(self,
                 dataset: Union[dict, BaseDataset],
                 pipeline: List[dict],
                 role: str = 'train',
                 withheld_classes: Sequence[str] = (),
                 keep_ignored: bool = False,
                 indices: Optional[Union[int, Sequence[int]]] = None,
                 lazy_init: bool = False) -> None:
        if role not in self.ROLES:
            raise ValueError(f'role must be one of {self.ROLES}, got {role!r}')
        self.source = DATASETS.build(dataset) if isinstance(dataset, dict) else dataset
        classes = list(self.source.metainfo.get('classes', ()))
        unknown = sorted(set(withheld_classes) - set(classes))
        if unknown:
            raise ValueError(f'withheld_classes {unknown} are not classes of the dataset '
                             f'({classes}); fix the names or the dataset metainfo')
        self.role = role
        self.withheld_labels = frozenset(classes.index(name) for name in withheld_classes)
        self.keep_ignored = keep_ignored
        super().__init__(metainfo=copy.deepcopy(self.source.metainfo), pipeline=pipeline,
                         test_mode=role != 'train', indices=indices,
                         lazy_init=lazy_init)

    def load_data_list(self) -> List[dict]:
        """The source's images, each with only the boxes to crop; images left empty go."""
        self.source.full_init()
        drop_withheld = self.role != 'query'
        data_list = []
        for idx in range(len(self.source)):
            info = copy.deepcopy(self.source.get_data_info(idx))
            instances = []
            for instance in info.get('instances', []):
                if drop_withheld and instance['bbox_label'] in self.withheld_labels:
                    continue
                if instance.get('ignore_flag', 0):
                    if not self.keep_ignored:
                        continue
                    instance['ignore_flag'] = 0
                instances.append(instance)
            if instances:
                info['instances'] = instances
                data_list.append(info)
        if not data_list:
            raise ValueError(f'{self.source.__class__.__name__} '
                             f'({getattr(self.source, "ann_file", "")}) has no boxes to crop '
                             f'for role {self.role!r}; check the annotation file')
        return data_list

    def prepare_data(self, idx: int) -> Optional[dict]:
        results = super().prepare_data(idx)
        results['data_samples'].set_metainfo(dict(crop_role=self.role))
        return results
