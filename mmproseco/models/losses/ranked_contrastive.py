"""Ranked supervised contrastive losses: RINCE, SupCon and RINCE over super-categories.

A user ranks, for every class, the other classes by similarity. For an anchor of class ``c``,
every contrast entry then has a *rank*: 0 for the same class, ``i >= 1`` for a class listed at
rank ``i`` of ``c``'s ranking, and "negative" for every other class. Term ``i`` of the loss pulls
the rank-``i`` entries closer than everything ranked after them, at temperature ``tau_i``
(RINCE, Hoffmann et al., AAAI 2022):

    l_i(n) = -log( sum_{p in P_i} e^{q.p / tau_i} / sum_{p in P_i u P_>i u N} e^{q.p / tau_i} )

Entries ranked before ``i`` are left out of term ``i``. With ``cumulative_positives=True``
(``use_same_and_similar_class`` of the original code) the positives of term ``i`` are all ranks
``0..i`` and the denominator is the whole contrast set.

Differences from the original code, on purpose:

* a class with fewer similar classes than ranks simply has no positives in the missing ranks;
  the original padded its list with unrelated classes in class-id order and made them positives
  (``emulate_padding_bug`` reproduces that);
* the rank terms are averaged by default like the original code (the paper writes a sum:
  ``rank_reduction='sum'``), and only over the terms that have at least one anchor;
* classes withheld from training (``withheld_classes``, the OOD classes) are taken out of every
  ranking, as the original's OOD ranking did by hand: a class whose only similar classes are
  withheld has no rank-1 term.

How a term averages its anchors:

* ``form='in'``: one loss per anchor, averaged over the anchors that have a positive;
* ``form='out'``: one loss per (anchor, positive) pair. By default (``out_reduction='pair'``)
  the term is the mean over all pairs of the batch, as the official RINCE code
  (``sum_out_log``) does, so an anchor with more positives weighs more;
  ``out_reduction='anchor'`` first averages each anchor's pairs, then the anchors, as
  SupCon's ``L_out`` does.
"""
import json
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmdet.registry import MODELS
from torch import Tensor

#: Rank of contrast entries that take no part in the loss at all (the anchor itself).
EXCLUDED = -2
#: Rank of contrast entries of classes the anchor's class does not rank: true negatives.
NEGATIVE = -1

ClassRanks = Dict[str, List[List[str]]]


def build_class_rank_matrix(classes: Sequence[str],
                            class_ranks: ClassRanks,
                            num_ranks: int,
                            emulate_padding_bug: bool = False,
                            num_columns: Optional[int] = None,
                            withheld_classes: Sequence[str] = ()) -> Tensor:
    """Turn a per-class similarity ranking into a class-by-class rank table.

    Args:
        classes (Sequence[str]): Class names in label order.
        class_ranks (dict[str, list[list[str]]]): For each class, the lists of similar classes at
            rank 1, 2, ... Classes missing from the dict rank nothing.
        num_ranks (int): Number of ranks including rank 0 (the same class). Ranks at or beyond it
            are ignored (those classes become negatives).
        emulate_padding_bug (bool): Reproduce the original code: the listed similar classes are
            columns; a class with ``1 <= k < num_columns - 1`` of them gets the first
            ``num_columns - 1 - k`` unrelated classes (in label order) added to its last rank.
        num_columns (int, optional): The original's ``n_sim_classes``; needed by the emulation.
        withheld_classes (Sequence[str]): Classes that never reach the loss (held out of
            training). They are removed from every ranking before anything else, so they rank
            nothing and are ranked by nothing; the ranks of the other classes keep their
            numbers (and temperatures), a rank left empty simply has no positives.

    Returns:
        Tensor: ``(C, C)`` long tensor; entry ``[c, c']`` is the rank of class ``c'`` for anchors
        of class ``c``: 0 on the diagonal, ``1..num_ranks - 1`` when ranked, -1 otherwise.
    """
    index = {name: i for i, name in enumerate(classes)}
    unknown = sorted((set(class_ranks) | {n for ranks in class_ranks.values()
                                          for level in ranks for n in level}) - set(index))
    if unknown:
        raise ValueError(f'class_ranks names classes that are not in `classes`: {unknown}')
    unknown = sorted(set(withheld_classes) - set(index))
    if unknown:
        raise ValueError(f'withheld_classes are not in `classes`: {unknown}')
    withheld = set(withheld_classes)
    class_ranks = {name: [[n for n in level if n not in withheld] for level in levels]
                   for name, levels in class_ranks.items() if name not in withheld}
    if emulate_padding_bug and (num_columns is None or num_columns < 1):
        raise ValueError('emulate_padding_bug needs num_columns >= 1 (the original n_sim_classes)')
    table = torch.full((len(classes), len(classes)), NEGATIVE, dtype=torch.long)
    for c, name in enumerate(classes):
        levels = [list(level) for level in class_ranks.get(name, [])][:num_ranks - 1]
        if emulate_padding_bug and levels:
            listed = {n for level in levels for n in level}
            missing = num_columns - 1 - len(listed)
            if missing > 0:
                unrelated = [n for n in classes
                             if n != name and n not in listed and n not in withheld]
                levels[-1] += unrelated[:missing]
        for rank, level in enumerate(levels, start=1):
            for other in level:
                if other == name:
                    raise ValueError(f'class_ranks[{name!r}] lists the class itself')
                if table[c, index[other]] == NEGATIVE:
                    table[c, index[other]] = rank
        table[c, c] = 0
    return table


def ranks_from_superclasses(classes: Sequence[str],
                            superclasses: Dict[str, Sequence[str]]) -> ClassRanks:
    """RINCE's super-category ranking: every sibling in a class's cluster is rank 1.

    Args:
        classes (Sequence[str]): Class names.
        superclasses (dict[str, Sequence[str]]): Cluster name to member classes. A class may be
            in one cluster at most; classes in none have no similar class.

    Returns:
        dict[str, list[list[str]]]: The ranking, one rank per class.
    """
    owner: Dict[str, str] = {}
    for cluster, members in superclasses.items():
        for name in members:
            if name in owner:
                raise ValueError(f'superclasses: {name!r} is in both {owner[name]!r} and '
                                 f'{cluster!r}')
            owner[name] = cluster
    unknown = sorted(set(owner) - set(classes))
    if unknown:
        raise ValueError(f'superclasses names classes that are not in `classes`: {unknown}')
    return {name: [[m for m in superclasses[owner[name]] if m != name]]
            for name in classes if name in owner}


def entry_ranks(anchor_labels: Tensor, contrast_labels: Tensor, rank_matrix: Tensor,
                exclude_mask: Optional[Tensor] = None) -> Tensor:
    """Rank of every contrast entry for every anchor.

    Args:
        anchor_labels (Tensor): ``(N,)`` class ids of the anchors.
        contrast_labels (Tensor): ``(M,)`` class ids of the contrast entries.
        rank_matrix (Tensor): ``(C, C)`` table from :func:`build_class_rank_matrix`.
        exclude_mask (Tensor, optional): ``(N, M)`` bool, True for pairs that take no part
            (an anchor and itself).

    Returns:
        Tensor: ``(N, M)`` long ranks; -1 negative, -2 excluded.
    """
    ranks = rank_matrix.to(anchor_labels.device)[anchor_labels][:, contrast_labels]
    if exclude_mask is not None:
        ranks = ranks.masked_fill(exclude_mask, EXCLUDED)
    return ranks


def ranked_contrastive_loss(anchors: Tensor,
                            contrast: Tensor,
                            ranks: Tensor,
                            temperatures: Sequence[float],
                            form: str = 'in',
                            cumulative_positives: bool = False,
                            anchor_has_rank: Optional[Tensor] = None,
                            rank_reduction: str = 'mean',
                            out_reduction: str = 'pair') -> Tensor:
    """RINCE loss of anchors against a ranked contrast set.

    Args:
        anchors (Tensor): ``(N, D)`` L2-normalised anchor embeddings.
        contrast (Tensor): ``(M, D)`` L2-normalised contrast embeddings.
        ranks (Tensor): ``(N, M)`` long, from :func:`entry_ranks`.
        temperatures (Sequence[float]): ``tau_i`` of the terms ``i = 0..R-1``.
        form (str): ``'in'``: the positives of a term are summed inside the log. ``'out'``: each
            positive is contrasted with the entries ranked after the term on its own,
            ``-log(e^{s_p} / (e^{s_p} + sum_neg e^{s_z}))``.
        cumulative_positives (bool): Term ``i`` takes ranks ``0..i`` as positives against the
            whole contrast set (the original ``use_same_and_similar_class``).
        anchor_has_rank (Tensor, optional): ``(N, R)`` bool; with ``cumulative_positives`` an
            anchor enters term ``i >= 1`` only if its class ranks some class at ``i``.
        rank_reduction (str): ``'mean'`` or ``'sum'`` over the terms that have anchors.
        out_reduction (str): How ``form='out'`` averages a term: ``'pair'`` (official RINCE):
            mean over all (anchor, positive) pairs; ``'anchor'``: mean over each anchor's
            positives, then over the anchors. Unused by ``form='in'``.

    Returns:
        Tensor: Scalar loss; a term averages over the anchors (``'in'``) or pairs (``'out'``)
        that have a positive in it.
    """
    if form not in ('in', 'out'):
        raise ValueError(f"form must be 'in' or 'out', got {form!r}")
    if rank_reduction not in ('mean', 'sum'):
        raise ValueError(f"rank_reduction must be 'mean' or 'sum', got {rank_reduction!r}")
    if out_reduction not in ('pair', 'anchor'):
        raise ValueError(f"out_reduction must be 'pair' or 'anchor', got {out_reduction!r}")
    similarity = anchors @ contrast.t()
    present = ranks != EXCLUDED
    terms = []
    for i, tau in enumerate(temperatures):
        if cumulative_positives:
            positive = (ranks >= 0) & (ranks <= i)
            pool = present
        else:
            positive = ranks == i
            pool = (ranks >= i) | (ranks == NEGATIVE)
        valid = positive.any(dim=1)
        if cumulative_positives and i > 0 and anchor_has_rank is not None:
            valid &= anchor_has_rank[:, i]
        if not valid.any():
            continue
        logits = similarity[valid] / tau
        positive, pool = positive[valid], pool[valid]
        if form == 'in':
            log_pos = logits.masked_fill(~positive, float('-inf')).logsumexp(dim=1)
            log_all = logits.masked_fill(~pool, float('-inf')).logsumexp(dim=1)
            term = (log_all - log_pos).mean()
        else:
            log_neg = logits.masked_fill(~(pool & ~positive), float('-inf')).logsumexp(dim=1)
            # -log(e^a / (e^a + e^b)) = softplus(b - a); b = -inf (no negative) gives 0.
            pair_loss = F.softplus(log_neg[:, None] - logits) * positive
            if out_reduction == 'pair':
                term = pair_loss.sum() / positive.sum()
            else:
                term = (pair_loss.sum(dim=1) / positive.sum(dim=1)).mean()
        terms.append(term)
    if not terms:
        # No anchor has any positive: a zero that keeps the graph (and DDP) intact.
        return similarity.sum() * 0.
    total = torch.stack(terms)
    return total.mean() if rank_reduction == 'mean' else total.sum()


def _from_similarity_file(value: Union[dict, str], entry: str) -> dict:
    """``value`` given inline, or the ``entry`` of a class-similarity JSON file (the
    ``class_similarity.json`` that tools/prepare_data.py writes: ``ranks``, ``superclasses``)."""
    if not isinstance(value, str):
        return dict(value)
    try:
        with open(value) as f:
            return json.load(f)[entry]
    except (OSError, KeyError, json.JSONDecodeError) as err:
        raise ValueError(f'class similarity file {value!r} must be a JSON object with a '
                         f'"{entry}" entry ({err}); build the data with tools/prepare_data.py '
                         'or give the entry inline') from err


@MODELS.register_module()
class RankedContrastiveLoss(nn.Module):
    """RINCE with a user ranking of similar classes.

    Args:
        classes (Sequence[str]): Class names in label order (the dataset's ``classes``).
        class_ranks (dict | str): Per class, the lists of similar classes at rank 1, 2, ...
            (``{'cat': [['dog'], ['sheep']]}``), or a JSON file with a ``ranks`` entry.
        temperatures (Sequence[float]): One temperature per rank, rank 0 (same class) first;
            strictly increasing. Its length is the number of ranks used.
        form (str): ``'in'`` (default; what the original runs used) or ``'out'``.
        cumulative_positives (bool): Original ``use_same_and_similar_class``. Default False.
        rank_reduction (str): ``'mean'`` (original code) or ``'sum'`` (paper) over the terms.
        out_reduction (str): ``'pair'`` (default, official RINCE) or ``'anchor'``: how
            ``form='out'`` averages a term, see :func:`ranked_contrastive_loss`.
        withheld_classes (Sequence[str]): Classes held out of training (the dataset's
            ``withheld_classes``); removed from the ranking, see
            :func:`build_class_rank_matrix`. Default none.
        emulate_padding_bug (bool): See :func:`build_class_rank_matrix`. Default False.
        num_columns (int, optional): The original ``n_sim_classes``, for the emulation only.
        loss_weight (float): Multiplier of the loss.
    """

    def __init__(self,
                 classes: Sequence[str],
                 class_ranks: Union[ClassRanks, str],
                 temperatures: Sequence[float] = (0.1, 0.225),
                 form: str = 'in',
                 cumulative_positives: bool = False,
                 rank_reduction: str = 'mean',
                 out_reduction: str = 'pair',
                 withheld_classes: Sequence[str] = (),
                 emulate_padding_bug: bool = False,
                 num_columns: Optional[int] = None,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        temperatures = [float(t) for t in temperatures]
        if not temperatures or min(temperatures) <= 0:
            raise ValueError(f'temperatures must be positive, got {temperatures}')
        if any(b <= a for a, b in zip(temperatures, temperatures[1:])):
            raise ValueError(f'temperatures must increase with rank, got {temperatures}')
        if form not in ('in', 'out'):
            raise ValueError(f"form must be 'in' or 'out', got {form!r}")
        if rank_reduction not in ('mean', 'sum'):
            raise ValueError(f"rank_reduction must be 'mean' or 'sum', got {rank_reduction!r}")
        if out_reduction not in ('pair', 'anchor'):
            raise ValueError(f"out_reduction must be 'pair' or 'anchor', got {out_reduction!r}")
        self.classes = list(classes)
        self.temperatures = temperatures
        self.form = form
        self.cumulative_positives = cumulative_positives
        self.rank_reduction = rank_reduction
        self.out_reduction = out_reduction
        self.loss_weight = loss_weight
        rank_matrix = build_class_rank_matrix(
            self.classes, _from_similarity_file(class_ranks, 'ranks'), len(temperatures),
            emulate_padding_bug=emulate_padding_bug, num_columns=num_columns,
            withheld_classes=withheld_classes)
        self.register_buffer('rank_matrix', rank_matrix, persistent=False)
        # has_rank[c, i]: class c ranks at least one class at rank i (column 0 always True).
        has_rank = torch.stack([(rank_matrix == i).any(dim=1)
                                for i in range(len(temperatures))], dim=1)
        self.register_buffer('has_rank', has_rank, persistent=False)

    def forward(self,
                anchors: Tensor,
                anchor_labels: Tensor,
                contrast: Tensor,
                contrast_labels: Tensor,
                exclude_mask: Optional[Tensor] = None) -> Tensor:
        """Loss of ``(N, D)`` anchors against ``(M, D)`` contrast entries.

        Both must be L2-normalised; ``exclude_mask`` ``(N, M)`` marks pairs to leave out (the
        anchor itself when anchors and contrast are the same batch).
        """
        if anchor_labels.numel() and int(anchor_labels.max()) >= len(self.classes):
            raise ValueError(f'label {int(anchor_labels.max())} is out of range for the '
                             f'{len(self.classes)} classes of the loss; check `classes`')
        ranks = entry_ranks(anchor_labels, contrast_labels, self.rank_matrix, exclude_mask)
        loss = ranked_contrastive_loss(
            anchors, contrast, ranks, self.temperatures, form=self.form,
            cumulative_positives=self.cumulative_positives,
            anchor_has_rank=self.has_rank[anchor_labels], rank_reduction=self.rank_reduction,
            out_reduction=self.out_reduction)
        return self.loss_weight * loss


@MODELS.register_module()
class SupConLoss(RankedContrastiveLoss):
    """Supervised contrastive loss: the ranked loss with one rank (same class only).

    With ``form='in'`` this is SupCon's ``L_in`` minus ``log |P(n)|`` per anchor (same gradient;
    equal when each anchor has one positive) and is what the original "SupCL (r=1)" ran. With
    ``form='out'`` each positive is contrasted with the negatives only (RINCE-out); it is not
    the ``L_out`` of Khosla et al., whose denominators also hold the other positives. No
    ``tau / base_tau`` factor is applied.

    Args:
        classes (Sequence[str]): Class names in label order.
        temperature (float): Temperature. Default 0.1.
        form (str): ``'in'`` or ``'out'``.
        out_reduction (str): ``'pair'`` or ``'anchor'`` (``form='out'`` only).
        loss_weight (float): Multiplier of the loss.
    """

    def __init__(self,
                 classes: Sequence[str],
                 temperature: float = 0.1,
                 form: str = 'in',
                 out_reduction: str = 'pair',
                 loss_weight: float = 1.0) -> None:
        super().__init__(classes, {}, temperatures=(temperature, ), form=form,
                         out_reduction=out_reduction, loss_weight=loss_weight)


@MODELS.register_module()
class SuperclassContrastiveLoss(RankedContrastiveLoss):
    """RINCE with super-category clusters: same class at rank 0, siblings at rank 1.

    Args:
        classes (Sequence[str]): Class names in label order.
        superclasses (dict | str): Cluster name to member classes, or a JSON file with a
            ``superclasses`` entry.
        temperatures (Sequence[float]): ``(tau_same, tau_sibling)``. Default ``(0.1, 0.225)``.
        **kwargs: ``form``, ``cumulative_positives``, ``rank_reduction``, ``out_reduction``,
            ``withheld_classes``, ``loss_weight`` of :class:`RankedContrastiveLoss`.
    """

    def __init__(self,
                 classes: Sequence[str],
                 superclasses: Union[Dict[str, Sequence[str]], str],
                 temperatures: Sequence[float] = (0.1, 0.225),
                 **kwargs) -> None:
        if len(temperatures) != 2:
            raise ValueError(f'temperatures must be (same class, sibling), got {temperatures}')
        super().__init__(classes,
                         ranks_from_superclasses(
                             classes, _from_similarity_file(superclasses, 'superclasses')),
                         temperatures=temperatures, **kwargs)
