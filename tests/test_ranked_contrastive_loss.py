"""Ranked contrastive losses against hand-computed values and independent formulas."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmproseco.models.losses.ranked_contrastive import (NEGATIVE, RankedContrastiveLoss, SupConLoss,
                                                        SuperclassContrastiveLoss,
                                                        build_class_rank_matrix,
                                                        ranks_from_superclasses)

CLASSES = ['a', 'b', 'c', 'd']


def _unit(*angles):
    """2-D unit vectors at the given angles (radians): cosines are cos(angle differences)."""
    return torch.tensor([[math.cos(t), math.sin(t)] for t in angles], dtype=torch.float64)


def hobbitlong_supcon(features, labels, temperature, base_temperature):
    """HobbitLong/SupContrast ``SupConLoss`` (contrast_mode='all'), rewritten step by step.

    features: (bsz, n_views, D), L2-normalised.
    """
    bsz, n_views = features.shape[:2]
    mask = torch.eq(labels.view(-1, 1), labels.view(1, -1)).to(features.dtype)
    contrast = torch.cat(torch.unbind(features, dim=1), dim=0)
    logits = contrast @ contrast.T / temperature
    logits = logits - logits.max(dim=1, keepdim=True).values.detach()
    mask = mask.repeat(n_views, n_views)
    logits_mask = 1 - torch.eye(bsz * n_views, dtype=features.dtype)
    mask = mask * logits_mask
    log_prob = logits - torch.log((torch.exp(logits) * logits_mask).sum(1, keepdim=True))
    pos_count = torch.where(mask.sum(1) < 1e-6, torch.ones_like(mask.sum(1)), mask.sum(1))
    mean_log_prob_pos = (mask * log_prob).sum(1) / pos_count
    return (-(temperature / base_temperature) * mean_log_prob_pos).mean()


def supcon_in_loop(z, labels, tau):
    """SupCon L_in per anchor by explicit loops: -log(mean_p e^{s_p} / sum_{c != a} e^{s_c})."""
    values = []
    for a in range(len(z)):
        others = [c for c in range(len(z)) if c != a]
        positives = [c for c in others if labels[c] == labels[a]]
        denominator = sum(math.exp(float(z[a] @ z[c]) / tau) for c in others)
        mean_pos = sum(math.exp(float(z[a] @ z[p]) / tau) for p in positives) / len(positives)
        values.append((-math.log(mean_pos / denominator), len(positives)))
    return values


def test_rank_matrix_and_missing_ranks():
    ranks = {'a': [['b'], ['c']], 'b': [['a']], 'd': [['a', 'b']]}
    table = build_class_rank_matrix(CLASSES, ranks, num_ranks=3)
    assert table.tolist() == [[0, 1, 2, NEGATIVE],
                              [1, 0, NEGATIVE, NEGATIVE],
                              [NEGATIVE, NEGATIVE, 0, NEGATIVE],
                              [1, 1, NEGATIVE, 0]]
    # ranks beyond num_ranks - 1 turn into negatives
    assert build_class_rank_matrix(CLASSES, ranks, num_ranks=2)[0].tolist() == [0, 1, -1, -1]
    # the original's bug: 'b' (one similar class, 3 columns) gets the first unrelated class
    buggy = build_class_rank_matrix(CLASSES, ranks, num_ranks=3, emulate_padding_bug=True,
                                    num_columns=3)
    assert buggy[1].tolist() == [1, 0, 1, NEGATIVE]
    assert buggy[2].tolist() == table[2].tolist()  # no similar class: nothing padded


def test_superclass_ranks_and_config_errors():
    assert ranks_from_superclasses(CLASSES, {'x': ['a', 'b', 'c']}) == {
        'a': [['b', 'c']], 'b': [['a', 'c']], 'c': [['a', 'b']]}
    with pytest.raises(ValueError, match='increase with rank'):
        RankedContrastiveLoss(CLASSES, {}, temperatures=(0.5, 0.1))
    with pytest.raises(ValueError, match='not in `classes`'):
        RankedContrastiveLoss(CLASSES, {'a': [['zebra']]})
    with pytest.raises(ValueError, match='both'):
        SuperclassContrastiveLoss(CLASSES, {'x': ['a'], 'y': ['a']})
    with pytest.raises(ValueError, match='form'):
        SupConLoss(CLASSES, form='sideways')


def test_in_and_out_forms_by_hand():
    # One anchor of class a; contrast: p (class a, angle 0.3), s (class b, angle 1.0),
    # n (class c, angle 2.0). Ranking a: b at rank 1. Temperatures 0.1 and 0.5.
    anchors, labels = _unit(0.0), torch.tensor([0])
    contrast, contrast_labels = _unit(0.3, 1.0, 2.0), torch.tensor([0, 1, 2])
    cp, cs, cn = math.cos(0.3), math.cos(1.0), math.cos(2.0)
    e = math.exp
    # term 0 (tau 0.1): positive p, pool {p, s, n}; term 1 (tau 0.5): positive s, pool {s, n}
    in_0 = -math.log(e(cp / .1) / (e(cp / .1) + e(cs / .1) + e(cn / .1)))
    in_1 = -math.log(e(cs / .5) / (e(cs / .5) + e(cn / .5)))
    out_0 = -math.log(e(cp / .1) / (e(cp / .1) + e(cs / .1) + e(cn / .1)))
    out_1 = -math.log(e(cs / .5) / (e(cs / .5) + e(cn / .5)))
    loss = RankedContrastiveLoss(CLASSES, {'a': [['b']]}, temperatures=(0.1, 0.5))
    assert float(loss(anchors, labels, contrast, contrast_labels)) == pytest.approx(
        (in_0 + in_1) / 2, rel=1e-9)
    loss_sum = RankedContrastiveLoss(CLASSES, {'a': [['b']]}, temperatures=(0.1, 0.5),
                                     rank_reduction='sum', form='out')
    assert float(loss_sum(anchors, labels, contrast, contrast_labels)) == pytest.approx(
        out_0 + out_1, rel=1e-9)
    # cumulative (original use_same_and_similar_class): term 1 positives {p, s}, pool all
    cum_1 = -math.log((e(cp / .5) + e(cs / .5)) / (e(cp / .5) + e(cs / .5) + e(cn / .5)))
    loss_cum = RankedContrastiveLoss(CLASSES, {'a': [['b']]}, temperatures=(0.1, 0.5),
                                     cumulative_positives=True)
    assert float(loss_cum(anchors, labels, contrast, contrast_labels)) == pytest.approx(
        (in_0 + cum_1) / 2, rel=1e-9)


def test_out_form_two_positives_and_temperatures_per_rank():
    # Two same-class positives (angles 0.2, 0.4), one rank-1 entry (0.9), one negative (2.5).
    anchors, labels = _unit(0.0), torch.tensor([0])
    contrast, contrast_labels = _unit(0.2, 0.4, 0.9, 2.5), torch.tensor([0, 0, 1, 3])
    s = [math.cos(t) for t in (0.2, 0.4, 0.9, 2.5)]
    e = math.exp

    def expected(tau0, tau1):
        # "out", term 0: each positive against the entries ranked after rank 0 only
        neg0 = e(s[2] / tau0) + e(s[3] / tau0)
        term0 = sum(-math.log(e(s[i] / tau0) / (e(s[i] / tau0) + neg0)) for i in (0, 1)) / 2
        term1 = -math.log(e(s[2] / tau1) / (e(s[2] / tau1) + e(s[3] / tau1)))
        return term0 + term1

    loss = RankedContrastiveLoss(CLASSES, {'a': [['b']]}, temperatures=(0.1, 0.7),
                                 form='out', rank_reduction='sum')
    value = float(loss(anchors, labels, contrast, contrast_labels))
    assert value == pytest.approx(expected(0.1, 0.7), rel=1e-9)
    # the temperatures really go to their own terms: swapping them would give another value
    assert abs(value - expected(0.7, 0.1)) > 1e-3


def rince_out_loops(sims, table, anchor_labels, contrast_labels, taus):
    """RINCE-out term by term with loops: per (anchor, positive) pair
    ``-log(e^{s_p} / (e^{s_p} + sum_{z ranked after the term} e^{s_z}))``.

    Returns, per term, the list of pair losses grouped by anchor.
    """
    terms = []
    for i, tau in enumerate(taus):
        groups = []
        for n, a in enumerate(anchor_labels.tolist()):
            rank = [int(table[a, c]) for c in contrast_labels.tolist()]
            negatives = [m for m, r in enumerate(rank) if r > i or r < 0]
            neg = sum(math.exp(sims[n, m] / tau) for m in negatives)
            pairs = [-math.log(math.exp(sims[n, p] / tau) / (math.exp(sims[n, p] / tau) + neg))
                     for p, r in enumerate(rank) if r == i]
            if pairs:
                groups.append(pairs)
        terms.append(groups)
    return terms


def test_out_form_averages_per_pair_like_rince_or_per_anchor():
    # Anchors with 3, 1 and 2 positives at rank 0 and different rank-1 counts: the pair mean
    # (official RINCE sum_out_log) and the anchor mean differ.
    torch.manual_seed(3)
    anchors = F.normalize(torch.randn(3, 6, dtype=torch.float64), dim=1)
    anchor_labels = torch.tensor([0, 1, 3])
    contrast = F.normalize(torch.randn(10, 6, dtype=torch.float64), dim=1)
    contrast_labels = torch.tensor([0, 0, 0, 1, 2, 2, 3, 3, 1, 2])
    ranking = {'a': [['c']], 'b': [['a', 'c']], 'd': [['a']]}
    taus = (0.1, 0.4)
    table = build_class_rank_matrix(CLASSES, ranking, 2)
    terms = rince_out_loops(anchors @ contrast.T, table, anchor_labels, contrast_labels, taus)
    pair_mean = [sum(sum(g) for g in groups) / sum(len(g) for g in groups) for groups in terms]
    anchor_mean = [sum(sum(g) / len(g) for g in groups) / len(groups) for groups in terms]
    assert abs(sum(pair_mean) - sum(anchor_mean)) > 1e-3  # the data tells the two apart
    for reduction, expected in (('pair', pair_mean), ('anchor', anchor_mean)):
        loss = RankedContrastiveLoss(CLASSES, ranking, temperatures=taus, form='out',
                                     out_reduction=reduction)
        value = float(loss(anchors, anchor_labels, contrast, contrast_labels))
        assert value == pytest.approx(sum(expected) / 2, rel=1e-9)
    # the default is the official averaging
    default = RankedContrastiveLoss(CLASSES, ranking, temperatures=taus, form='out')
    assert float(default(anchors, anchor_labels, contrast, contrast_labels)) == pytest.approx(
        sum(pair_mean) / 2, rel=1e-9)
    with pytest.raises(ValueError, match='out_reduction'):
        RankedContrastiveLoss(CLASSES, ranking, out_reduction='batch')


def test_withheld_classes_leave_every_ranking():
    # VOC's OOD setting: 'b' is ranked only by 'a' (motorbike for bicycle), 'c' by 'd' next to
    # 'a'. Withholding 'b' leaves 'a' with no rank 1 (no cumulative rank-1 term, has_rank
    # False) and 'd' with 'a' only, like the original's hand-edited OOD ranking.
    ranking = {'a': [['b']], 'b': [['a']], 'd': [['b', 'a']]}
    loss = RankedContrastiveLoss(CLASSES, ranking, temperatures=(0.1, 0.3),
                                 cumulative_positives=True, withheld_classes=('b', ))
    assert loss.rank_matrix.tolist() == [[0, NEGATIVE, NEGATIVE, NEGATIVE],
                                         [NEGATIVE, 0, NEGATIVE, NEGATIVE],
                                         [NEGATIVE, NEGATIVE, 0, NEGATIVE],
                                         [1, NEGATIVE, NEGATIVE, 0]]
    assert loss.has_rank[:, 1].tolist() == [False, False, False, True]
    counted = RankedContrastiveLoss(CLASSES, ranking, temperatures=(0.1, 0.3),
                                    cumulative_positives=True)
    assert counted.has_rank[0, 1]  # without the option, 'a' would enter term 1
    # anchors of 'a' with same-class entries only: term 0 alone, no rank-1 duplicate of it
    torch.manual_seed(0)
    feats = F.normalize(torch.randn(4, 3, dtype=torch.float64), dim=1)
    labels = torch.tensor([0, 0, 2, 2])
    itself = torch.eye(4, dtype=torch.bool)
    one_rank = RankedContrastiveLoss(CLASSES, {}, temperatures=(0.1, ))
    alone = float(one_rank(feats, labels, feats, labels, itself))
    assert float(loss(feats, labels, feats, labels, itself)) == pytest.approx(alone, rel=1e-12)
    assert abs(float(counted(feats, labels, feats, labels, itself)) - alone) > 1e-3
    with pytest.raises(ValueError, match='withheld_classes'):
        RankedContrastiveLoss(CLASSES, ranking, withheld_classes=('zebra', ))


def test_fewer_similar_classes_than_ranks():
    # Class b ranks only a (1 rank of 2): its anchor must take part in terms 0 and 1 only,
    # class c ranks nothing: term 0 only. Compare with per-anchor loops.
    torch.manual_seed(0)
    feats = F.normalize(torch.randn(9, 5, dtype=torch.float64), dim=1)
    labels = torch.tensor([0, 0, 1, 1, 2, 2, 3, 0, 1])
    ranking = {'a': [['b'], ['c']], 'b': [['a']], 'd': [['c'], ['a']]}
    taus = (0.1, 0.3, 0.6)
    table = build_class_rank_matrix(CLASSES, ranking, 3)
    sims = feats @ feats.T
    terms = [[], [], []]
    for n in range(9):
        for i, tau in enumerate(taus):
            rank = [int(table[labels[n], labels[m]]) if m != n else None for m in range(9)]
            pos = [m for m in range(9) if rank[m] == i]
            if not pos:
                continue
            pool = [m for m in range(9) if rank[m] is not None and (rank[m] >= i or rank[m] < 0)]
            num = sum(math.exp(sims[n, m] / tau) for m in pos)
            den = sum(math.exp(sims[n, m] / tau) for m in pool)
            terms[i].append(-math.log(num / den))
    expected = sum(sum(t) / len(t) for t in terms if t) / sum(1 for t in terms if t)
    loss = RankedContrastiveLoss(CLASSES, ranking, temperatures=taus)
    itself = torch.eye(9, dtype=torch.bool)
    assert float(loss(feats, labels, feats, labels, itself)) == pytest.approx(expected, rel=1e-9)
    # rank 2 holds the 3 anchors of a and the one of d, not those of b (no rank 2) or c
    assert len(terms[2]) == 4 and len(terms[1]) == 7


def test_supcon_in_identity_and_hobbitlong():
    torch.manual_seed(1)
    bsz, tau = 6, 0.2
    features = F.normalize(torch.randn(bsz, 2, 8, dtype=torch.float64), dim=2)
    labels = torch.tensor([0, 1, 0, 2, 1, 0])
    z = torch.cat([features[:, 0], features[:, 1]])
    z_labels = labels.repeat(2)
    itself = torch.eye(2 * bsz, dtype=torch.bool)
    ours = float(SupConLoss(CLASSES, temperature=tau)(z, z_labels, z, z_labels, itself))
    # SupCon L_in(n) = ours(n) + log |P(n)| (Khosla et al. average the positives in the log)
    loop = supcon_in_loop(z, z_labels, tau)
    assert ours == pytest.approx(sum(v - math.log(k) for v, k in loop) / len(loop), rel=1e-9)
    # One positive per anchor (distinct labels, two views): HobbitLong's L_out equals ours
    # in both forms once its tau / base_tau factor is 1.
    distinct = torch.arange(bsz)
    classes = [str(i) for i in range(bsz)]
    ref = float(hobbitlong_supcon(features, distinct, tau, base_temperature=tau))
    d_labels = distinct.repeat(2)
    # (RINCE-out drops the other positives from each denominator; with one positive per
    # anchor there are none, so "out" equals SupCon too.)
    for form in ('in', 'out'):
        value = float(SupConLoss(classes, temperature=tau, form=form)(
            z, d_labels, z, d_labels, itself))
        assert value == pytest.approx(ref, rel=1e-9)


def test_no_positive_gives_zero_with_gradient():
    feats = F.normalize(torch.randn(3, 4), dim=1).requires_grad_()
    labels = torch.tensor([0, 1, 2])
    loss = SupConLoss(CLASSES)(feats, labels, feats, labels, torch.eye(3, dtype=torch.bool))
    loss.backward()
    assert float(loss) == 0 and torch.isfinite(feats.grad).all()
