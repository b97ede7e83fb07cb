# Copyright (c) mmproseco contributors. All rights reserved.
"""Localized Soft Contrastive Estimation (LocSCE), the ProSeCo contrastive loss.

LocSCE is SCE (:mod:`.sce`) between the student's object predictions and the teacher's
object proposals, with one change: every teacher proposal of the same image whose box
overlaps the matched proposal sigma(i) with IoU >= delta is a positive of query i
(ProSeCo, Bouniot et al., ICLR 2023):

    w[i, k] = lambda * 1[k in P(i)] + (1 - lambda) * s[i, k]

The SCE baseline of ProSeCo's ablation (the poster's "delta = 1" row) is
``positive_set='matched'``: P(i) = {sigma(i)} exactly. ``pos_iou_thr=1.0`` is not quite
that, since two teacher proposals with identical boxes have IoU 1 with each other.
"""
from mmdet.registry import MODELS
from mmdet.structures.bbox import bbox_overlaps
from torch import Tensor

from .sce import SCELoss, matched_mask

POSITIVE_SETS = ('iou', 'matched')


def locsce_positive_mask(teacher_boxes: Tensor, teacher_image_ids: Tensor,
                         matched_teacher: Tensor, pos_iou_thr: float) -> Tensor:
    """Positive set P(i) of every student query, as a boolean mask.

    Teacher proposal k is a positive of query i when it belongs to the same image as the
    matched proposal ``matched_teacher[i]`` and their boxes overlap with IoU >=
    ``pos_iou_thr``; the matched proposal itself is always positive, even a zero-area box
    (IoU 0 with itself). The IoU is computed for all (M, K) pairs, the size of the
    similarity matrix the loss builds anyway: keeping to same-image blocks would need the
    proposal counts per image on the host, a device sync at every step.

    Args:
        teacher_boxes (Tensor): Teacher proposal boxes, xyxy, shape (K, 4).
        teacher_image_ids (Tensor): Image index of every proposal, shape (K,). Proposals
            of one image need not be contiguous.
        matched_teacher (Tensor): Index into the K proposals of the proposal matched to
            each student query, long, shape (M,).
        pos_iou_thr (float): IoU threshold delta.

    Returns:
        Tensor: Boolean mask of shape (M, K).
    """
    ious = bbox_overlaps(teacher_boxes[matched_teacher], teacher_boxes)
    same_image = teacher_image_ids[matched_teacher, None] == teacher_image_ids[None, :]
    matched = matched_mask(matched_teacher, teacher_boxes.size(0))
    return (same_image & (ious >= pos_iou_thr)) | matched


@MODELS.register_module()
class LocSCELoss(SCELoss):
    """LocSCE loss module: :class:`SCELoss` over the positive sets of :meth:`positive_mask`.

    Args:
        positive_set (str): ``'iou'``, the proposals of the image with IoU >= pos_iou_thr
            with the matched one (LocSCE), or ``'matched'``, the matched proposal alone
            (SCE over proposals). Defaults to ``'iou'``.
        pos_iou_thr (float): IoU threshold delta of ``positive_set='iou'``, in [0, 1];
            unused by ``'matched'``. Defaults to 0.5, the poster's best value.
        **kwargs: The SCE options of :class:`SCELoss` (coeff, temperatures, row_norm,
            teacher_mask, gather_keys, loss_weight) and their defaults.
    """

    def __init__(self, positive_set: str = 'iou', pos_iou_thr: float = 0.5, **kwargs) -> None:
        super().__init__(**kwargs)
        if positive_set not in POSITIVE_SETS:
            raise ValueError(f'LocSCELoss: positive_set must be one of {POSITIVE_SETS}, got '
                             f'{positive_set!r}.')
        if not 0.0 <= pos_iou_thr <= 1.0:
            raise ValueError(f'LocSCELoss: pos_iou_thr (delta) must be in [0, 1], got '
                             f"{pos_iou_thr}; use positive_set='matched' for plain SCE.")
        self.positive_set = positive_set
        self.pos_iou_thr = pos_iou_thr

    def positive_mask(self, teacher_boxes: Tensor, teacher_image_ids: Tensor,
                      matched_teacher: Tensor) -> Tensor:
        """Positive sets P(i), shape (M, K); arguments as in :meth:`forward`."""
        if self.positive_set == 'matched':
            return matched_mask(matched_teacher, teacher_boxes.size(0))
        return locsce_positive_mask(teacher_boxes, teacher_image_ids, matched_teacher,
                                    self.pos_iou_thr)

    def forward(self, student_embeds: Tensor, teacher_embeds: Tensor, teacher_boxes: Tensor,
                teacher_image_ids: Tensor, matched_teacher: Tensor) -> Tensor:
        """Weighted LocSCE loss.

        Args:
            student_embeds (Tensor): L2-normalised student query embeddings, flattened over
                the batch, shape (M, D).
            teacher_embeds (Tensor): L2-normalised teacher proposal embeddings, shape (K, D).
            teacher_boxes (Tensor): Teacher proposal boxes, xyxy, shape (K, 4).
            teacher_image_ids (Tensor): Image index of every proposal, shape (K,).
            matched_teacher (Tensor): Index into the K proposals of the proposal matched to
                each student query, long, shape (M,).

        Returns:
            Tensor: Scalar loss. Only ``student_embeds`` receives a gradient.
        """
        positives = self.positive_mask(teacher_boxes.detach(), teacher_image_ids,
                                       matched_teacher)
        return super().forward(student_embeds, teacher_embeds, positives, matched_teacher)

    def extra_repr(self) -> str:
        return (f'positive_set={self.positive_set!r}, pos_iou_thr={self.pos_iou_thr}, '
                + super().extra_repr())
