# Copyright (c) mmproseco contributors. All rights reserved.
"""Similarity Contrastive Estimation (SCE, Denize et al., WACV 2023), in-batch form.

Student query i predicts a distribution over K teacher keys. Its target mixes a hard positive
set P(i) with the teacher's own similarity distribution around the query's key m(i):

    s[i] = softmax(k[m(i)] . K^T / tau_m), the masked keys removed
    w[i] = coeff * 1[P(i)] + (1 - coeff) * s[i]            (then row-normalised)
    loss = -1/M * sum_i sum_k w[i, k] * log softmax(q[i] . K^T / tau)[k]

In SCE, P(i) = {m(i)}, the other view of the same image; this is eztorch's
``compute_sce_loss`` with ``use_keys=True`` (in-batch keys, the self entry masked). LocSCE
(:mod:`.locsce`) passes a wider P(i): the teacher proposals that overlap the matched one.
"""
from typing import Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmdet.registry import MODELS
from mmengine.dist import all_gather, get_rank, get_world_size
from torch import Tensor

ROW_NORMS = ('l1', 'none', 'mean')
TEACHER_MASKS = ('self', 'positives')


def matched_mask(matched: Tensor, num_keys: int) -> Tensor:
    """One-hot boolean mask of the matched key of every query.

    Args:
        matched (Tensor): Index of each query's key, long, shape (M,).
        num_keys (int): Number K of keys.

    Returns:
        Tensor: Boolean mask of shape (M, K), True at ``[i, matched[i]]``.
    """
    return matched[:, None] == torch.arange(num_keys, device=matched.device)


def sce_targets(teacher: Tensor, positives: Tensor, matched: Tensor, *, coeff: float,
                teacher_temperature: float, row_norm: str, teacher_mask: str) -> Tensor:
    """Soft target w of SCE (no gradient).

    Args:
        teacher (Tensor): L2-normalised teacher keys, shape (K, D).
        positives (Tensor): Boolean positive set P(i) of every query, shape (M, K). Row i
            must contain ``matched[i]``.
        matched (Tensor): Index of each query's key m(i), long, shape (M,).
        coeff (float): Weight lambda of the positive set.
        teacher_temperature (float): Temperature tau_m of the teacher distribution.
        row_norm (str): ``'l1'`` divides every row by its sum (SCE's code); ``'none'`` keeps
            ``coeff * 1[P] + (1 - coeff) * s`` (ProSeCo's poster, literally: a row sums to
            ``coeff * |P| + 1 - coeff``); ``'mean'`` uses
            ``coeff * 1[P] / |P| + (1 - coeff) * s``. The three agree when |P(i)| = 1.
        teacher_mask (str): Keys removed from the teacher distribution: ``'self'``, the key
            m(i) (eztorch's in-batch SCE), or ``'positives'``, all of P(i). A row whose every
            key is positive (one image in the batch and a low IoU threshold) would leave
            nothing to distribute over; that row masks only its own key.

    Returns:
        Tensor: Target weights of shape (M, K).
    """
    teacher = teacher.detach()
    masked = matched_mask(matched, teacher.size(0))
    if teacher_mask == 'positives':
        masked = torch.where(positives.all(dim=1, keepdim=True), masked, positives)
    # The teacher side has no gradient: work in place to save (M, K) buffers.
    teacher_logits = teacher[matched] @ teacher.T
    teacher_logits.masked_fill_(masked, float('-inf'))
    relational = F.softmax(teacher_logits.div_(teacher_temperature), dim=1)

    positives = positives.to(relational.dtype)
    if row_norm == 'mean':
        positives /= positives.sum(dim=1, keepdim=True)
    targets = relational.mul_(1.0 - coeff).add_(positives, alpha=coeff)
    if row_norm == 'l1':
        targets /= targets.sum(dim=1, keepdim=True)
    return targets


def sce_loss(student: Tensor, teacher: Tensor, positives: Tensor, matched: Tensor, *,
             coeff: float, temperature: float, teacher_temperature: float, row_norm: str,
             teacher_mask: str) -> Tensor:
    """SCE loss of student queries against teacher keys.

    The options are not checked here; :class:`SCELoss` checks them once, when it is built.

    Args:
        student (Tensor): L2-normalised student queries, shape (M, D).
        teacher (Tensor): L2-normalised teacher keys, shape (K, D), K >= 2.
        positives (Tensor): Boolean positive set of every query, shape (M, K), with
            ``positives[i, matched[i]]`` True.
        matched (Tensor): Index of each query's own key, long, shape (M,).
        coeff (float): Weight lambda of the positive set, in [0, 1].
        temperature (float): Student temperature tau > 0.
        teacher_temperature (float): Teacher temperature tau_m > 0.
        row_norm (str): ``'l1'`` | ``'none'`` | ``'mean'``, see :func:`sce_targets`.
        teacher_mask (str): ``'self'`` | ``'positives'``, see :func:`sce_targets`.

    Returns:
        Tensor: Scalar loss, the mean over the M queries. Only ``student`` gets a gradient.
    """
    targets = sce_targets(teacher, positives, matched, coeff=coeff,
                          teacher_temperature=teacher_temperature, row_norm=row_norm,
                          teacher_mask=teacher_mask)
    log_probs = F.log_softmax(student @ teacher.detach().T / temperature, dim=1)
    return -(targets * log_probs).sum(dim=1).mean()


def gather_teacher_keys(teacher: Tensor, positives: Tensor,
                        matched: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
    """Contrast the local queries with the teacher keys of every rank.

    Every rank must hold the same number K of keys (``all_gather`` needs equal shapes),
    which holds for DETR queries and images at a fixed batch size. The positives of a local
    query are local keys, so they keep their columns, shifted to this rank's block.

    Args:
        teacher (Tensor): Local keys, shape (K, D).
        positives (Tensor): Boolean positive sets over the local keys, shape (M, K).
        matched (Tensor): Local key indices, shape (M,).

    Returns:
        tuple[Tensor]: Keys (world * K, D), positives (M, world * K) and key indices (M,)
        into the gathered keys. The inputs themselves on a single process.
    """
    world_size = get_world_size()
    if world_size == 1:
        return teacher, positives, matched
    num_local = teacher.size(0)
    offset = get_rank() * num_local
    gathered = positives.new_zeros(positives.size(0), world_size * num_local)
    gathered[:, offset:offset + num_local] = positives
    return torch.cat(all_gather(teacher.detach().contiguous())), gathered, matched + offset


@MODELS.register_module()
class SCELoss(nn.Module):
    """SCE loss module (see :func:`sce_loss`); the options are checked here, once.

    The defaults are SCE's (reference/proseco.md section 4): lambda 0.5, tau 0.1 and tau_m
    0.07 of the ImageNet config, L1 row normalisation and the in-batch self mask.

    Args:
        coeff (float): Weight lambda of the positive set, in [0, 1]. Defaults to 0.5.
        temperature (float): Student temperature tau > 0. Defaults to 0.1.
        teacher_temperature (float): Teacher temperature tau_m > 0. Defaults to 0.07.
        row_norm (str): ``'l1'`` | ``'none'`` | ``'mean'``. Defaults to ``'l1'``.
        teacher_mask (str): ``'self'`` | ``'positives'``. Defaults to ``'self'``.
        gather_keys (bool): Contrast with the teacher keys of all ranks
            (``mmengine.dist.all_gather``), as SCE does. Defaults to False.
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
    """

    def __init__(self,
                 coeff: float = 0.5,
                 temperature: float = 0.1,
                 teacher_temperature: float = 0.07,
                 row_norm: str = 'l1',
                 teacher_mask: str = 'self',
                 gather_keys: bool = False,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        name = type(self).__name__
        if not 0.0 <= coeff <= 1.0:
            raise ValueError(f'{name}: coeff (lambda) must be in [0, 1], got {coeff}.')
        if not temperature > 0:
            raise ValueError(f'{name}: temperature must be > 0, got {temperature}.')
        if not teacher_temperature > 0:
            raise ValueError(
                f'{name}: teacher_temperature must be > 0, got {teacher_temperature}.')
        if row_norm not in ROW_NORMS:
            raise ValueError(f'{name}: row_norm must be one of {ROW_NORMS}, got {row_norm!r}.')
        if teacher_mask not in TEACHER_MASKS:
            raise ValueError(
                f'{name}: teacher_mask must be one of {TEACHER_MASKS}, got {teacher_mask!r}.')
        self.coeff = coeff
        self.temperature = temperature
        self.teacher_temperature = teacher_temperature
        self.row_norm = row_norm
        self.teacher_mask = teacher_mask
        self.gather_keys = gather_keys
        self.loss_weight = loss_weight

    def forward(self, student: Tensor, teacher: Tensor, positives: Tensor,
                matched: Tensor) -> Tensor:
        """Weighted SCE loss; arguments and shapes as in :func:`sce_loss`, over local keys."""
        if self.gather_keys:
            teacher, positives, matched = gather_teacher_keys(teacher, positives, matched)
        return self.loss_weight * sce_loss(
            student, teacher, positives, matched,
            coeff=self.coeff,
            temperature=self.temperature,
            teacher_temperature=self.teacher_temperature,
            row_norm=self.row_norm,
            teacher_mask=self.teacher_mask)

    def extra_repr(self) -> str:
        return (f'coeff={self.coeff}, temperature={self.temperature}, '
                f'teacher_temperature={self.teacher_temperature}, '
                f'row_norm={self.row_norm!r}, teacher_mask={self.teacher_mask!r}, '
                f'gather_keys={self.gather_keys}, loss_weight={self.loss_weight}')
