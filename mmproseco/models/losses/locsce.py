# Copyright (c) mmproseco contributors. All rights reserved.
"""Localized Soft Contrastive Estimation (LocSCE), the ProSeCo contrastive loss.

LocSCE is SCE (Denize et al., WACV 2023) computed between the student's object
predictions and the teacher's object proposals, with one change: every teacher
proposal of the same image whose box overlaps the matched proposal with
IoU >= delta counts as a positive (ProSeCo, Bouniot et al., ICLR 2023):

    w[i, k] = lambda * 1[k in P(i)] + (1 - lambda) * s[i, k]
    loss    = -1/M * sum_i sum_k w[i, k] * log p[i, k]

with ``p[i] = softmax(z_s[i] . Z_t^T / tau)`` the student distribution over all
teacher proposals and ``s[i] = softmax(z_t[sigma(i)] . Z_t^T / tau_m - inf * mask)``
the teacher's relational distribution around the matched proposal sigma(i).
With ``pos_iou_thr=1`` and distinct boxes, P(i) = {sigma(i)} and LocSCE equals
in-batch SCE over proposals (eztorch ``compute_sce_loss`` with ``use_keys``).
"""
from typing import Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmdet.registry import MODELS
from mmdet.structures.bbox import bbox_overlaps
from mmengine.dist import all_gather, get_rank, get_world_size
from torch import Tensor

ROW_NORMS = ('l1', 'none', 'mean')
TEACHER_MASKS = ('self', 'positives')


def check_locsce_options(pos_iou_thr: float = 0.5,
                         coeff: float = 0.5,
                         temperature: float = 0.1,
                         teacher_temperature: float = 0.07,
                         row_norm: str = 'l1',
                         teacher_mask: str = 'self') -> None:
    """Raise a ``ValueError`` naming the first invalid LocSCE option."""
    if not 0.0 <= pos_iou_thr <= 1.0:
        raise ValueError(f'pos_iou_thr (delta) must be in [0, 1], got '
                         f'{pos_iou_thr}; use 1.0 for plain in-batch SCE.')
    if not 0.0 <= coeff <= 1.0:
        raise ValueError(f'coeff (lambda) must be in [0, 1], got {coeff}.')
    if not temperature > 0:
        raise ValueError(f'temperature must be > 0, got {temperature}.')
    if not teacher_temperature > 0:
        raise ValueError(
            f'teacher_temperature must be > 0, got {teacher_temperature}.')
    if row_norm not in ROW_NORMS:
        raise ValueError(
            f'row_norm must be one of {ROW_NORMS}, got {row_norm!r}.')
    if teacher_mask not in TEACHER_MASKS:
        raise ValueError(f'teacher_mask must be one of {TEACHER_MASKS}, '
                         f'got {teacher_mask!r}.')


def _check_shapes(teacher_embeds: Tensor, teacher_boxes: Tensor,
                  teacher_image_ids: Tensor, matched_teacher: Tensor) -> None:
    num_keys = teacher_embeds.size(0)
    if teacher_embeds.dim() != 2:
        raise ValueError('teacher_embeds must have shape (K, D), got '
                         f'{tuple(teacher_embeds.shape)}.')
    if teacher_boxes.shape != (num_keys, 4):
        raise ValueError(f'teacher_boxes must have shape ({num_keys}, 4), '
                         f'got {tuple(teacher_boxes.shape)}.')
    if teacher_image_ids.shape != (num_keys, ):
        raise ValueError(f'teacher_image_ids must have shape ({num_keys},), '
                         f'got {tuple(teacher_image_ids.shape)}.')
    if matched_teacher.dim() != 1:
        raise ValueError('matched_teacher must have shape (M,), got '
                         f'{tuple(matched_teacher.shape)}.')
    if matched_teacher.numel() and (matched_teacher.min() < 0
                                    or matched_teacher.max() >= num_keys):
        raise ValueError('matched_teacher must index the K teacher proposals '
                         f'(0 <= index < {num_keys}); unmatched queries (-1) '
                         'must be removed before the loss.')


def locsce_positive_mask(teacher_boxes: Tensor, teacher_image_ids: Tensor,
                         matched_teacher: Tensor,
                         pos_iou_thr: float) -> Tensor:
    """Positive set P(i) of every student query, as a boolean mask.

    Teacher proposal k is a positive of query i when it belongs to the same
    image as the matched proposal ``matched_teacher[i]`` and their boxes
    overlap with IoU >= ``pos_iou_thr``; the matched proposal itself is always
    positive. The IoU is computed block-wise: the proposals are scattered into
    a zero-padded (num_images, max_per_image, 4) tensor and a single batched
    ``bbox_overlaps`` call gives every within-image IoU, so the cost is
    sum over images of n_img^2 instead of K^2 and there is no Python loop.

    Args:
        teacher_boxes (Tensor): Teacher proposal boxes, xyxy, shape (K, 4).
        teacher_image_ids (Tensor): Image index of every proposal, long,
            shape (K,). Proposals of one image need not be contiguous.
        matched_teacher (Tensor): Index into the K proposals of the proposal
            matched to each student query, long, shape (M,).
        pos_iou_thr (float): IoU threshold delta.

    Returns:
        Tensor: Boolean mask of shape (M, K).
    """
    num_keys = teacher_boxes.size(0)
    num_queries = matched_teacher.size(0)
    arange_keys = torch.arange(num_keys, device=teacher_boxes.device)

    _, image_of_key = torch.unique(teacher_image_ids, return_inverse=True)
    counts = torch.bincount(image_of_key)
    # Slot of every proposal inside its image block: rank among the
    # proposals of the same image, in original order.
    order = torch.argsort(image_of_key, stable=True)
    block_start = torch.cumsum(counts, 0) - counts
    slot_of_key = torch.empty_like(image_of_key)
    slot_of_key[order] = arange_keys - block_start[image_of_key[order]]

    blocks = teacher_boxes.new_zeros(counts.numel(), int(counts.max()), 4)
    blocks[image_of_key, slot_of_key] = teacher_boxes
    block_ious = bbox_overlaps(blocks, blocks)  # (num_images, L, L)

    anchor_image = image_of_key[matched_teacher]
    anchor_ious = block_ious[anchor_image, slot_of_key[matched_teacher]]
    ious = anchor_ious.gather(1, slot_of_key.expand(num_queries, num_keys))
    same_image = anchor_image[:, None] == image_of_key[None, :]
    positives = same_image & (ious >= pos_iou_thr)
    # A degenerate (zero-area) box has IoU 0 with itself: force the match.
    positives[torch.arange(num_queries, device=positives.device),
              matched_teacher] = True
    return positives


def locsce_targets(teacher_embeds: Tensor,
                   teacher_boxes: Tensor,
                   teacher_image_ids: Tensor,
                   matched_teacher: Tensor,
                   pos_iou_thr: float = 0.5,
                   coeff: float = 0.5,
                   teacher_temperature: float = 0.07,
                   row_norm: str = 'l1',
                   teacher_mask: str = 'self') -> Tensor:
    """Localization-aware soft target w of LocSCE (no gradient).

    ``w = coeff * pos + (1 - coeff) * s`` where ``pos`` is
    :func:`locsce_positive_mask` and ``s`` the teacher's relational
    distribution ``softmax(z_t[matched] . Z_t^T / teacher_temperature)`` with
    masked entries removed (probability exactly 0).

    Args:
        teacher_embeds (Tensor): L2-normalised teacher proposal embeddings,
            shape (K, D).
        teacher_boxes (Tensor): Teacher proposal boxes, xyxy, shape (K, 4).
        teacher_image_ids (Tensor): Image index of every proposal, shape (K,).
        matched_teacher (Tensor): Matched proposal of each student query,
            shape (M,).
        pos_iou_thr (float): IoU threshold delta of the positives.
        coeff (float): Weight lambda of the positive mask.
        teacher_temperature (float): Temperature tau_m of the teacher.
        row_norm (str): ``'l1'`` divides every row by its sum (SCE's code);
            ``'none'`` keeps the poster's formula literally (a row sums to
            ``coeff * |P| + 1 - coeff``); ``'mean'`` uses
            ``coeff * pos / |P| + (1 - coeff) * s`` (rows sum to 1).
        teacher_mask (str): Entries removed from the teacher distribution:
            ``'self'`` the matched proposal (eztorch's in-batch SCE) or
            ``'positives'`` all of P(i).

    Returns:
        Tensor: Target weights of shape (M, K).

    Raises:
        ValueError: If a row of the teacher distribution is fully masked
            (``teacher_mask='positives'`` when every proposal is a positive,
            e.g. one image per batch with ``pos_iou_thr=0``).
    """
    check_locsce_options(
        pos_iou_thr=pos_iou_thr,
        coeff=coeff,
        teacher_temperature=teacher_temperature,
        row_norm=row_norm,
        teacher_mask=teacher_mask)
    teacher_embeds = teacher_embeds.detach()
    teacher_boxes = teacher_boxes.detach()
    _check_shapes(teacher_embeds, teacher_boxes, teacher_image_ids,
                  matched_teacher)

    positives = locsce_positive_mask(teacher_boxes, teacher_image_ids,
                                     matched_teacher, pos_iou_thr)
    if teacher_mask == 'self':
        masked = torch.zeros_like(positives)
        masked[torch.arange(masked.size(0), device=masked.device),
               matched_teacher] = True
    else:
        masked = positives
    fully_masked = masked.all(dim=1)
    if fully_masked.any():
        raise ValueError(
            f'{int(fully_masked.sum())} rows of the LocSCE teacher '
            f'distribution are fully masked (teacher_mask={teacher_mask!r}): '
            'every teacher proposal is a positive. Use teacher_mask=\'self\', '
            'a higher pos_iou_thr or more images per batch (gather_keys).')

    # The teacher side has no gradient: work in place to save (M, K) buffers.
    teacher_logits = teacher_embeds[matched_teacher] @ teacher_embeds.T
    teacher_logits.masked_fill_(masked, float('-inf'))
    relational = F.softmax(teacher_logits.div_(teacher_temperature), dim=1)

    positives = positives.to(relational.dtype)
    if row_norm == 'mean':
        positives /= positives.sum(dim=1, keepdim=True)
    targets = relational.mul_(1.0 - coeff).add_(positives, alpha=coeff)
    if row_norm == 'l1':
        targets /= targets.sum(dim=1, keepdim=True)
    return targets


def locsce_loss(student_embeds: Tensor,
                teacher_embeds: Tensor,
                teacher_boxes: Tensor,
                teacher_image_ids: Tensor,
                matched_teacher: Tensor,
                pos_iou_thr: float = 0.5,
                coeff: float = 0.5,
                temperature: float = 0.1,
                teacher_temperature: float = 0.07,
                row_norm: str = 'l1',
                teacher_mask: str = 'self') -> Tensor:
    """LocSCE loss between student queries and teacher proposals.

    Args:
        student_embeds (Tensor): L2-normalised student query embeddings,
            flattened over the batch, shape (M, D).
        teacher_embeds (Tensor): L2-normalised teacher proposal embeddings,
            shape (K, D), K >= M when keys are gathered across ranks.
        teacher_boxes (Tensor): Teacher proposal boxes, xyxy, shape (K, 4).
        teacher_image_ids (Tensor): Image index of every proposal, shape (K,).
        matched_teacher (Tensor): Index into the K proposals of the proposal
            matched to each student query, long, shape (M,).
        pos_iou_thr (float): IoU threshold delta of the positives.
            Defaults to 0.5 (the poster's best value).
        coeff (float): Weight lambda of the positive mask. Defaults to 0.5.
        temperature (float): Student temperature tau. Defaults to 0.1.
        teacher_temperature (float): Teacher temperature tau_m.
            Defaults to 0.07.
        row_norm (str): Target row normalisation, see
            :func:`locsce_targets`. Defaults to ``'l1'``.
        teacher_mask (str): ``'self'`` or ``'positives'``, see
            :func:`locsce_targets`. Defaults to ``'self'``.

    Returns:
        Tensor: Scalar loss. Only ``student_embeds`` receives a gradient.
    """
    check_locsce_options(temperature=temperature)
    if student_embeds.dim() != 2 or student_embeds.size(0) != \
            matched_teacher.size(0) or \
            student_embeds.size(1) != teacher_embeds.size(-1):
        raise ValueError(
            f'student_embeds must have shape ({matched_teacher.size(0)}, '
            f'{teacher_embeds.size(-1)}) to match matched_teacher and '
            f'teacher_embeds, got {tuple(student_embeds.shape)}.')
    targets = locsce_targets(teacher_embeds, teacher_boxes, teacher_image_ids,
                             matched_teacher, pos_iou_thr, coeff,
                             teacher_temperature, row_norm, teacher_mask)
    student_log_probs = F.log_softmax(
        student_embeds @ teacher_embeds.detach().T / temperature, dim=1)
    return -(targets * student_log_probs).sum(dim=1).mean()


def gather_teacher_keys(
        teacher_embeds: Tensor, teacher_boxes: Tensor,
        teacher_image_ids: Tensor,
        matched_teacher: Tensor) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """All-gather the teacher proposals of every rank (no-op on one process).

    Every rank must hold the same number K of proposals (``all_gather``
    needs equal shapes), which holds for DETR queries at a fixed batch size.
    Image ids are made globally unique by offsetting them per rank, and the
    local matching indices are shifted by ``rank * K``.

    Args:
        teacher_embeds (Tensor): Shape (K, D).
        teacher_boxes (Tensor): Shape (K, 4).
        teacher_image_ids (Tensor): Non-negative image ids, shape (K,).
        matched_teacher (Tensor): Local indices, shape (M,).

    Returns:
        tuple[Tensor]: Embeddings (world*K, D), boxes (world*K, 4), image ids
        (world*K,) and matching indices (M,) into the gathered proposals.
    """
    if get_world_size() == 1:
        return teacher_embeds, teacher_boxes, teacher_image_ids, \
            matched_teacher
    num_local = teacher_embeds.size(0)
    embeds = torch.cat(all_gather(teacher_embeds.detach().contiguous()))
    boxes = torch.cat(all_gather(teacher_boxes.detach().contiguous()))
    ids_per_rank = all_gather(teacher_image_ids.contiguous())
    id_span = max(int(ids.max()) + 1 for ids in ids_per_rank)
    image_ids = torch.cat(
        [ids + rank * id_span for rank, ids in enumerate(ids_per_rank)])
    return embeds, boxes, image_ids, matched_teacher + get_rank() * num_local


@MODELS.register_module()
class LocSCELoss(nn.Module):
    """LocSCE loss module (see :func:`locsce_loss` for the formula).

    Args:
        pos_iou_thr (float): IoU threshold delta of the positives, in [0, 1];
            1.0 gives in-batch SCE. Defaults to 0.5.
        coeff (float): Weight lambda of the positive mask, in [0, 1].
            Defaults to 0.5.
        temperature (float): Student temperature tau > 0. Defaults to 0.1.
        teacher_temperature (float): Teacher temperature tau_m > 0.
            Defaults to 0.07.
        row_norm (str): ``'l1'`` | ``'none'`` | ``'mean'``. Defaults to
            ``'l1'``.
        teacher_mask (str): ``'self'`` | ``'positives'``. Defaults to
            ``'self'``.
        gather_keys (bool): Contrast against the teacher proposals of all
            ranks (``mmengine.dist.all_gather``). Defaults to False.
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
    """

    def __init__(self,
                 pos_iou_thr: float = 0.5,
                 coeff: float = 0.5,
                 temperature: float = 0.1,
                 teacher_temperature: float = 0.07,
                 row_norm: str = 'l1',
                 teacher_mask: str = 'self',
                 gather_keys: bool = False,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        check_locsce_options(pos_iou_thr, coeff, temperature,
                             teacher_temperature, row_norm, teacher_mask)
        self.pos_iou_thr = pos_iou_thr
        self.coeff = coeff
        self.temperature = temperature
        self.teacher_temperature = teacher_temperature
        self.row_norm = row_norm
        self.teacher_mask = teacher_mask
        self.gather_keys = gather_keys
        self.loss_weight = loss_weight

    def forward(self, student_embeds: Tensor, teacher_embeds: Tensor,
                teacher_boxes: Tensor, teacher_image_ids: Tensor,
                matched_teacher: Tensor) -> Tensor:
        """Weighted LocSCE loss; arguments as in :func:`locsce_loss`."""
        if self.gather_keys:
            teacher_embeds, teacher_boxes, teacher_image_ids, \
                matched_teacher = gather_teacher_keys(
                    teacher_embeds, teacher_boxes, teacher_image_ids,
                    matched_teacher)
        return self.loss_weight * locsce_loss(
            student_embeds,
            teacher_embeds,
            teacher_boxes,
            teacher_image_ids,
            matched_teacher,
            pos_iou_thr=self.pos_iou_thr,
            coeff=self.coeff,
            temperature=self.temperature,
            teacher_temperature=self.teacher_temperature,
            row_norm=self.row_norm,
            teacher_mask=self.teacher_mask)

    def extra_repr(self) -> str:
        return (f'pos_iou_thr={self.pos_iou_thr}, coeff={self.coeff}, '
                f'temperature={self.temperature}, '
                f'teacher_temperature={self.teacher_temperature}, '
                f'row_norm={self.row_norm!r}, '
                f'teacher_mask={self.teacher_mask!r}, '
                f'gather_keys={self.gather_keys}, '
                f'loss_weight={self.loss_weight}')
