"""ProSeCo: proposal-contrastive pretraining of a DETR-like detector (Bouniot et al., 2023)."""
import copy
from typing import Dict, List, Tuple

import torch
from mmdet.models.detectors import BaseDetector
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmdet.utils import ConfigType, OptConfigType, OptMultiConfig
from torch import Tensor

from ..utils import ModulePair, MomentumModelMixin, check_frozen_backbone_has_weights


@MODELS.register_module()
class ProSeCo(BaseDetector, MomentumModelMixin):
    """Teacher-student pretraining of a Deformable DETR on unlabeled images.

    The teacher, an exponential moving average of the student kept up to date by
    :class:`TeacherEMAHook` (its one momentum pair), sees the weak view t1(x) and gives N
    proposals (boxes and projected embeddings) without gradient. It is the student's
    architecture without what only the student's loss uses: no predictor, no Hungarian
    assigner, no proposal matcher and no contrastive loss. The student sees the strong view
    t2(t1(x)), which shares t1's geometry, and is trained by its head (:class:`LocSCEHead`) with

    - L1 + GIoU against K sampled Selective Search boxes, on every decoder layer;
    - LocSCE between its predictions and the Hungarian-matched teacher proposals.

    Inputs come from mmdet's ``MultiBranch`` transform with the branches ``teacher`` and
    ``student``, batched by ``MultiBranchDataPreprocessor``.

    Args:
        detector (dict): the student, e.g. a ``DeformableDETR`` with a ``LocSCEHead``; the
            teacher is built from the same config (:meth:`build_teacher`).
        freeze_backbone (bool): keep the backbone fixed in both branches, as the paper
            does with an ImageNet-pretrained backbone. Train it jointly when no pretrained
            backbone is available.
        data_preprocessor (dict): a ``MultiBranchDataPreprocessor``.
    """

    def __init__(self,
                 detector: ConfigType,
                 freeze_backbone: bool = True,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        if freeze_backbone:
            check_frozen_backbone_has_weights(detector['backbone'].get('init_cfg'),
                                              'model.freeze_backbone', 'model.detector.backbone')
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.student = MODELS.build(copy.deepcopy(detector))
        self.teacher = self.build_teacher(detector)
        self.freeze_backbone = freeze_backbone
        if freeze_backbone:
            self.student.backbone.requires_grad_(False)

    @staticmethod
    def build_teacher(detector: ConfigType) -> BaseDetector:
        """The frozen teacher: ``detector`` without its predictor, Hungarian assigner
        (``train_cfg``), proposal matcher and contrastive loss. mmdet's DETR head keeps its
        parameter-free box and class losses: it reads ``loss_cls`` to initialise its
        classifier."""
        cfg = copy.deepcopy(detector)
        cfg['bbox_head'] = dict(cfg['bbox_head'], with_predictor=False)
        cfg['train_cfg'] = None
        teacher = MODELS.build(cfg)
        del teacher.bbox_head.proposal_assigner, teacher.bbox_head.loss_contrast
        return teacher.requires_grad_(False)

    def momentum_pairs(self) -> List[ModulePair]:
        return [(self.student, self.teacher)]

    def train(self, mode: bool = True) -> 'ProSeCo':
        """The teacher always runs in eval mode (no dropout), and so does a frozen backbone
        (its batch-norm statistics stay fixed)."""
        super().train(mode)
        self.teacher.eval()
        if self.freeze_backbone:
            self.student.backbone.eval()
        return self

    @staticmethod
    def query_states(detector: BaseDetector, inputs: Tensor,
                     data_samples: SampleList) -> Tuple[Tensor, List[Tensor]]:
        """Decoder states (L, B, N, C) and references of a DETR-like detector."""
        head_inputs = detector.forward_transformer(detector.extract_feat(inputs), data_samples)
        return head_inputs['hidden_states'], head_inputs['references']

    def loss(self, multi_batch_inputs: Dict[str, Tensor],
             multi_batch_data_samples: Dict[str, SampleList]) -> dict:
        with torch.no_grad():
            hidden, references = self.query_states(self.teacher, multi_batch_inputs['teacher'],
                                                   multi_batch_data_samples['teacher'])
            _, all_boxes = self.teacher.bbox_head(hidden, references)
            teacher_embeds = self.teacher.bbox_head.embed(hidden[-1], online=False)
        hidden, references = self.query_states(self.student, multi_batch_inputs['student'],
                                               multi_batch_data_samples['student'])
        return self.student.bbox_head.loss(hidden, references,
                                           multi_batch_data_samples['student'],
                                           teacher_embeds, all_boxes[-1])

    def predict(self, batch_inputs: Tensor, batch_data_samples: SampleList,
                rescale: bool = True) -> SampleList:
        """Boxes of the student (objectness scores), e.g. to look at what it localizes."""
        return self.student.predict(batch_inputs, batch_data_samples, rescale=rescale)

    def _forward(self, batch_inputs: Tensor, batch_data_samples: SampleList = None):
        return self.student._forward(batch_inputs, batch_data_samples)

    def extract_feat(self, batch_inputs: Tensor):
        return self.student.extract_feat(batch_inputs)
