"""Image-level SCE pretraining of a detector backbone on the unlabeled pool."""
from typing import Dict, List

import torch
import torch.nn.functional as F
from mmdet.models.layers import MLP
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmdet.utils import ConfigType, OptConfigType
from mmengine.model import BaseModel
from torch import Tensor, nn

from ..losses.sce import matched_mask
from ..utils import ModulePair, MomentumModelMixin, momentum_copy


@MODELS.register_module()
class ImageSCE(BaseModel, MomentumModelMixin):
    """SCE (Denize et al., 2023) at image level, to pretrain the backbone ProSeCo freezes.

    ProSeCo freezes an ImageNet-pretrained backbone; none can be downloaded here, so this
    model pretrains one on the same unlabeled images. It reads like mmpretrain's BYOL:
    ``student`` = backbone + projector + predictor on the strong view, ``teacher`` = EMA
    copy (backbone + projector, the momentum pair :class:`TeacherEMAHook` keeps) on the weak
    view; like BYOL's target network it runs in train mode (batch statistics). The loss is
    :class:`SCELoss`, each image's teacher view its one positive.

    Args:
        backbone (dict): the detector's backbone config; its last output is pooled.
        feat_channels (int): channels of that last output.
        proj_channels (int): embedding size.
        loss (dict): an ``SCELoss``.
    """

    def __init__(self,
                 backbone: ConfigType,
                 feat_channels: int,
                 proj_channels: int = 128,
                 loss: ConfigType = dict(type='SCELoss'),
                 data_preprocessor: OptConfigType = None,
                 init_cfg=None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.student = nn.ModuleDict(
            dict(backbone=MODELS.build(backbone),
                 projector=MLP(feat_channels, feat_channels, proj_channels, 2),
                 predictor=MLP(proj_channels, feat_channels, proj_channels, 2)))
        # BYOL's target network: the student without the predictor the teacher never runs.
        self.teacher = nn.ModuleDict(
            dict(backbone=momentum_copy(self.student['backbone']),
                 projector=momentum_copy(self.student['projector'])))
        self.loss_sce = MODELS.build(loss)

    def momentum_pairs(self) -> List[ModulePair]:
        return [(self.student, self.teacher)]

    @staticmethod
    def embed(branch: nn.ModuleDict, inputs: Tensor, online: bool) -> Tensor:
        """(B, 3, H, W) images to (B, D) normalised embeddings; only the online (student)
        branch goes through the predictor."""
        pooled = branch['backbone'](inputs)[-1].mean(dim=(2, 3))
        embeds = branch['projector'](pooled)
        if online:
            embeds = branch['predictor'](embeds)
        return F.normalize(embeds, dim=-1)

    def forward(self, inputs, data_samples=None, mode: str = 'loss'):
        if mode != 'loss':
            raise ValueError(f"ImageSCE only trains (mode='loss'), got mode={mode!r}")
        return self.loss(inputs, data_samples)

    def loss(self, multi_batch_inputs: Dict[str, Tensor],
             multi_batch_data_samples: Dict[str, SampleList]) -> Dict[str, Tensor]:
        with torch.no_grad():
            teacher_embeds = self.embed(self.teacher, multi_batch_inputs['teacher'], online=False)
        student_embeds = self.embed(self.student, multi_batch_inputs['student'], online=True)
        index = torch.arange(len(student_embeds), device=student_embeds.device)
        # The teacher view of image i is the one positive of its student view.
        return dict(loss_sce=self.loss_sce(student_embeds, teacher_embeds,
                                           matched_mask(index, len(index)), index))
