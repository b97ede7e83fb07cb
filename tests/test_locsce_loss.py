"""Tests of the LocSCE loss against independent computations.

The references below are written differently from the implementation:
explicit loops in numpy (float64) with a hand-written IoU, and eztorch's
``compute_sce_loss`` (in-batch mode) transcribed from proseco.md section 4.
"""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

import mmproseco  # noqa: F401  (registers LocSCELoss)
from mmproseco.models.losses.locsce import LocSCELoss, locsce_positive_mask
from mmproseco.models.losses.sce import sce_targets

PROSECO_CONFIG = 'configs/proseco/proseco_deformable-detr_r18-tiny_1xb8-cpu_shapes.py'
SCE_CONFIG = 'configs/proseco/sce_deformable-detr_r18-tiny_1xb8-cpu_shapes.py'


def make_inputs(num_images=3, per_image=5, dim=8, seed=0, dtype=torch.double):
    """Random normalised embeddings and clustered boxes (many IoU >= 0.5)."""
    gen = torch.Generator().manual_seed(seed)
    num = num_images * per_image
    student = F.normalize(torch.randn(num, dim, generator=gen, dtype=dtype),
                          dim=1)
    teacher = F.normalize(torch.randn(num, dim, generator=gen, dtype=dtype),
                          dim=1)
    # Two box clusters per image so that some proposals overlap strongly.
    centers = torch.tensor([[30., 30.], [70., 60.]], dtype=dtype)
    which = torch.randint(0, 2, (num, ), generator=gen)
    center = centers[which] + 6 * torch.rand(num, 2, generator=gen,
                                             dtype=dtype)
    half = 10 + 8 * torch.rand(num, 2, generator=gen, dtype=dtype)
    boxes = torch.cat([center - half, center + half], dim=1)
    image_ids = torch.arange(num_images).repeat_interleave(per_image)
    matched = torch.cat([
        torch.randperm(per_image, generator=gen) + i * per_image
        for i in range(num_images)
    ])
    return student, teacher, boxes, image_ids, matched


def iou_numpy(a, b):
    inter_w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    inter_h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = inter_w * inter_h
    area_a = (a[2] - a[0]) * (a[3] - a[1])
    area_b = (b[2] - b[0]) * (b[3] - b[1])
    union = area_a + area_b - inter
    return inter / union


def reference_locsce(student, teacher, boxes, image_ids, matched, delta,
                     coeff, tau, tau_m, row_norm, teacher_mask):
    """LocSCE with explicit loops over queries and keys (numpy float64)."""
    s, t, b = (x.detach().double().numpy() for x in (student, teacher, boxes))
    ids, match = image_ids.numpy(), matched.numpy()
    num_queries, num_keys = len(s), len(t)
    total = 0.0
    for i in range(num_queries):
        anchor = match[i]
        positive = np.zeros(num_keys)
        for k in range(num_keys):
            if k == anchor or (ids[k] == ids[anchor]
                               and iou_numpy(b[anchor], b[k]) >= delta):
                positive[k] = 1.0
        masked = positive > 0 if teacher_mask == 'positives' else \
            np.arange(num_keys) == anchor
        if masked.all():  # nothing left for the teacher: mask the anchor only
            masked = np.arange(num_keys) == anchor
        teacher_logits = np.array(
            [np.dot(t[anchor], t[k]) / tau_m for k in range(num_keys)])
        exp = np.where(masked, 0.0,
                       np.exp(teacher_logits - teacher_logits[~masked].max()))
        relational = exp / exp.sum()
        if row_norm == 'mean':
            target = coeff * positive / positive.sum() + (1 - coeff) * \
                relational
        else:
            target = coeff * positive + (1 - coeff) * relational
            if row_norm == 'l1':
                target = target / target.sum()
        logits = np.array([np.dot(s[i], t[k]) / tau for k in range(num_keys)])
        log_prob = logits - (np.log(np.exp(logits - logits.max()).sum()) +
                             logits.max())
        total -= float(np.dot(target, log_prob))
    return total / num_queries


def locsce_targets(teacher, boxes, image_ids, matched, **options):
    """The soft target of ``LocSCELoss(**options)``: SCE's over its positive sets."""
    loss = LocSCELoss(**options)
    return sce_targets(teacher, loss.positive_mask(boxes, image_ids, matched),
                       matched, coeff=loss.coeff,
                       teacher_temperature=loss.teacher_temperature,
                       row_norm=loss.row_norm, teacher_mask=loss.teacher_mask)


def eztorch_sce_in_batch(q, k, k_global, mask, coeff, temp, temp_m):
    """eztorch ``compute_sce_loss`` with ``use_keys=True`` and no queue."""
    sim_k_kglobal = torch.einsum('nc,kc->nk', [k, k_global])
    sim_q_kglobal = torch.einsum('nc,kc->nk', [q, k_global])
    logits_k = sim_k_kglobal - 1e9 * mask
    logits_q = sim_q_kglobal / temp
    logits_k = logits_k / temp_m
    prob_k = F.softmax(logits_k, dim=1)
    prob_q = F.normalize(coeff * mask + (1 - coeff) * prob_k, p=1, dim=1)
    return -torch.sum(prob_q * F.log_softmax(logits_q, dim=1), dim=1).mean()


@pytest.mark.parametrize('row_norm', ['l1', 'none', 'mean'])
@pytest.mark.parametrize('teacher_mask', ['self', 'positives'])
def test_matches_explicit_loop_reference(row_norm, teacher_mask):
    inputs = make_inputs(seed=1)
    positives = locsce_positive_mask(inputs[2], inputs[3], inputs[4], 0.5)
    assert 0 < (positives.sum(1) > 1).sum() < len(positives), \
        'fixture must mix single and multiple positives'
    loss = LocSCELoss(
        pos_iou_thr=0.5,
        coeff=0.3,
        temperature=0.2,
        teacher_temperature=0.07,
        row_norm=row_norm,
        teacher_mask=teacher_mask)(*inputs)
    expected = reference_locsce(*inputs, 0.5, 0.3, 0.2, 0.07, row_norm,
                                teacher_mask)
    assert loss.item() == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize('row_norm', ['l1', 'none', 'mean'])
def test_delta_one_equals_in_batch_sce(row_norm):
    student, teacher, boxes, image_ids, matched = make_inputs(seed=2)
    loss = LocSCELoss(
        pos_iou_thr=1.0,
        coeff=0.5,
        temperature=0.1,
        teacher_temperature=0.07,
        row_norm=row_norm)(student, teacher, boxes, image_ids, matched)
    mask = F.one_hot(matched, len(teacher)).double()
    expected = eztorch_sce_in_batch(student, teacher[matched], teacher, mask,
                                    0.5, 0.1, 0.07)
    torch.testing.assert_close(loss, expected, rtol=1e-12, atol=1e-12)


def test_coeff_one_is_multi_positive_infonce():
    student, teacher, boxes, image_ids, matched = make_inputs(seed=3)
    loss = LocSCELoss(coeff=1.0, temperature=0.1)(
        student, teacher, boxes, image_ids, matched)
    log_prob = F.log_softmax(student @ teacher.T / 0.1, dim=1)
    per_query = []
    for i in range(len(student)):
        anchor = matched[i].item()
        terms = [
            -log_prob[i, k] for k in range(len(teacher))
            if k == anchor or (image_ids[k] == image_ids[anchor] and iou_numpy(
                boxes[anchor].tolist(), boxes[k].tolist()) >= 0.5)
        ]
        per_query.append(sum(terms) / len(terms))
    expected = sum(per_query) / len(per_query)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-10)


def test_target_rows():
    student, teacher, boxes, image_ids, matched = make_inputs(seed=4)
    positives = locsce_positive_mask(boxes, image_ids, matched, 0.5).double()
    for row_norm in ('l1', 'mean'):
        targets = locsce_targets(
            teacher, boxes, image_ids, matched, coeff=0.4, row_norm=row_norm)
        torch.testing.assert_close(
            targets.sum(1), torch.ones(len(student), dtype=torch.double))
    literal = locsce_targets(
        teacher, boxes, image_ids, matched, coeff=0.4, row_norm='none')
    torch.testing.assert_close(literal.sum(1), 0.4 * positives.sum(1) + 0.6)
    # With coeff = 1 the target is the positive set, inside the image only.
    masked_self = locsce_targets(
        teacher, boxes, image_ids, matched, coeff=1.0, row_norm='l1')
    same_image = image_ids[matched][:, None] == image_ids[None, :]
    assert (masked_self[~same_image] == 0).all()


def test_invariant_to_joint_permutation():
    student, teacher, boxes, image_ids, matched = make_inputs(seed=5)
    # Non-contiguous, non-consecutive image ids exercise the block scatter.
    image_ids = image_ids * 7 + 3
    loss_fn = LocSCELoss()
    loss = loss_fn(student, teacher, boxes, image_ids, matched)
    gen = torch.Generator().manual_seed(0)
    query_perm = torch.randperm(len(student), generator=gen)
    key_perm = torch.randperm(len(teacher), generator=gen)
    key_position = torch.argsort(key_perm)  # new index of every old key
    permuted = loss_fn(student[query_perm], teacher[key_perm],
                       boxes[key_perm], image_ids[key_perm],
                       key_position[matched[query_perm]])
    torch.testing.assert_close(permuted, loss, rtol=1e-12, atol=1e-12)


def test_gradient_reaches_student_only():
    student, teacher, boxes, image_ids, matched = make_inputs(seed=6)
    student.requires_grad_(True)
    teacher.requires_grad_(True)
    boxes.requires_grad_(True)
    loss = LocSCELoss()(student, teacher, boxes, image_ids, matched)
    loss.backward()
    assert student.grad is not None and student.grad.abs().sum() > 0
    assert teacher.grad is None and boxes.grad is None


def tiny_case():
    """M = K = 3, two images; b1 overlaps b0 with IoU exactly 0.5."""
    student = torch.tensor([[1., 0.], [0., 1.], [0.6, 0.8]],
                           dtype=torch.double)
    teacher = torch.tensor([[1., 0.], [0., 1.], [1., 0.]], dtype=torch.double)
    boxes = torch.tensor([[0., 0., 10., 10.], [0., 0., 10., 5.],
                          [0., 0., 10., 10.]],
                         dtype=torch.double)
    image_ids = torch.tensor([0, 0, 1])
    matched = torch.tensor([0, 1, 2])
    return student, teacher, boxes, image_ids, matched


def hand_loss(targets):
    """-1/3 sum w log p with tau = 1 and the student logits of tiny_case."""
    logits = [[1, 0, 1], [0, 1, 0], [0.6, 0.8, 0.6]]
    total = 0.0
    for row, weights in zip(logits, targets):
        log_z = math.log(sum(math.exp(v) for v in row))
        total -= sum(w * (v - log_z) for w, v in zip(weights, row))
    return total / 3


def test_tiny_case_by_hand():
    e = math.e
    # Positives: rows 0 and 1 -> {0, 1} (IoU 0.5 >= 0.5); row 2 -> {2}
    # (same box as b0 but another image). Teacher softmax (tau_m = 1) with
    # the self entry masked: row0 over logits [-, 0, 1], row1 over [0, -, 0],
    # row2 over [1, 0, -].
    soft = [[0, 1 / (1 + e), e / (1 + e)], [0.5, 0, 0.5],
            [e / (1 + e), 1 / (1 + e), 0]]
    pos = [[1, 1, 0], [1, 1, 0], [0, 0, 1]]
    none_targets = [[0.5 * p + 0.5 * s for p, s in zip(pr, sr)]
                    for pr, sr in zip(pos, soft)]
    mean_targets = [[0.5 * p / sum(pr) + 0.5 * s for p, s in zip(pr, sr)]
                    for pr, sr in zip(pos, soft)]
    for row_norm, targets in (('none', none_targets), ('mean', mean_targets)):
        got_targets = locsce_targets(
            *tiny_case()[1:],
            pos_iou_thr=0.5,
            coeff=0.5,
            teacher_temperature=1.0,
            row_norm=row_norm)
        torch.testing.assert_close(
            got_targets, torch.tensor(targets, dtype=torch.double))
        loss = LocSCELoss(
            pos_iou_thr=0.5,
            coeff=0.5,
            temperature=1.0,
            teacher_temperature=1.0,
            row_norm=row_norm)(*tiny_case())
        assert loss.item() == pytest.approx(hand_loss(targets), rel=1e-12)
    # Just above the IoU of b0 and b1, rows 0 and 1 keep only the match.
    strict = locsce_positive_mask(*tiny_case()[2:], pos_iou_thr=0.51)
    assert strict.tolist() == [[True, False, False], [False, True, False],
                               [False, False, True]]


@pytest.mark.parametrize('field, value', [
    ('pos_iou_thr', -0.1),
    ('pos_iou_thr', 1.5),
    ('coeff', 1.2),
    ('temperature', 0.0),
    ('teacher_temperature', -1.0),
    ('row_norm', 'l2'),
    ('teacher_mask', 'all'),
    ('positive_set', 'overlap'),
])
def test_bad_config_raises(repo_root, field, value):
    with pytest.raises(ValueError, match=field):
        MODELS.build(dict(type='LocSCELoss', **{field: value}))
    # The options are checked once, when the model is built, not at every step.
    init_default_scope('mmdet')
    cfg = Config.fromfile(f'{repo_root}/{PROSECO_CONFIG}')
    cfg.model.detector.bbox_head.loss_contrast[field] = value
    with pytest.raises(ValueError, match=f'LocSCELoss: {field}'):
        MODELS.build(cfg.model)


def test_fully_masked_teacher_row_keeps_the_self_mask():
    """With the positives masked, a query whose every key is a positive (one image,
    a low delta) would leave the teacher distribution empty: it masks its own key only.
    """
    # One image; b1 and b2 overlap all four boxes with IoU >= 0.32, b0 and b3 do not
    # (IoU(b0, b3) = 0.3).
    boxes = torch.tensor([[0., 0., 10., 10.], [0., 0., 10., 9.], [0., 0., 10., 8.],
                          [0., 0., 10., 3.]], dtype=torch.double)
    image_ids = torch.zeros(4, dtype=torch.long)
    matched = torch.tensor([0, 1, 2, 3, 1])
    gen = torch.Generator().manual_seed(8)
    student = F.normalize(torch.randn(5, 6, generator=gen, dtype=torch.double), dim=1)
    teacher = F.normalize(torch.randn(4, 6, generator=gen, dtype=torch.double), dim=1)
    inputs = student, teacher, boxes, image_ids, matched
    full_rows = locsce_positive_mask(boxes, image_ids, matched, 0.32).all(dim=1)
    assert full_rows.tolist() == [False, True, True, False, True]
    for row_norm in ('l1', 'none', 'mean'):
        loss = LocSCELoss(pos_iou_thr=0.32, teacher_mask='positives', row_norm=row_norm,
                          temperature=0.2)(*inputs)
        expected = reference_locsce(*inputs, 0.32, 0.5, 0.2, 0.07, row_norm, 'positives')
        assert math.isfinite(loss.item())
        assert loss.item() == pytest.approx(expected, rel=1e-9)


def test_module_weight_and_gather_noop():
    inputs = make_inputs(seed=7)
    module = MODELS.build(
        dict(type='LocSCELoss', loss_weight=2.5, gather_keys=True))
    assert isinstance(module, LocSCELoss)
    torch.testing.assert_close(module(*inputs), 2.5 * LocSCELoss()(*inputs))


def test_matched_positive_set_is_sce_even_with_duplicate_boxes():
    """SCE (positive_set='matched') keeps exactly the matched proposal as the positive
    when teacher boxes repeat; delta = 1 with IoU positives would count the copies."""
    student, teacher, boxes, image_ids, matched = make_inputs(seed=9)
    boxes[1::2] = boxes[0::2][:len(boxes[1::2])]  # every odd proposal copies its neighbour
    sce = LocSCELoss(positive_set='matched')
    positives = sce.positive_mask(boxes, image_ids, matched)
    assert positives.sum(dim=1).tolist() == [1] * len(matched)
    assert positives.nonzero()[:, 1].tolist() == matched.tolist()
    iou_one = LocSCELoss(pos_iou_thr=1.0).positive_mask(boxes, image_ids, matched)
    assert (iou_one.sum(dim=1) > 1).any()  # the duplicates the SCE mode leaves out
    mask = F.one_hot(matched, len(teacher)).double()
    expected = eztorch_sce_in_batch(student, teacher[matched], teacher, mask, 0.5, 0.1,
                                    0.07)
    torch.testing.assert_close(sce(student, teacher, boxes, image_ids, matched), expected,
                               rtol=1e-12, atol=1e-12)


def xyxy_to_normalized_cxcywh(boxes, size):
    boxes = np.asarray(boxes, dtype=np.float64) / size
    return np.concatenate([(boxes[..., :2] + boxes[..., 2:]) / 2,
                           boxes[..., 2:] - boxes[..., :2]], axis=-1)


@pytest.mark.parametrize('config', [PROSECO_CONFIG, SCE_CONFIG])
def test_head_logs_positives_per_query_and_matched_cosine(repo_root, config):
    """The head's mean |P(i)| against a count over the teacher boxes alone.

    Matching is a bijection of each image's queries onto its proposals (T = N), so
    sum_i |P(i)| = sum over images of sum_j |{k : IoU(b_j, b_k) >= delta}|, whatever
    the Hungarian matching picks. With one shared teacher embedding u, the matched
    cosine is the mean of q_i . u, also independent of the matching.
    """
    size, num_queries = 64, 4
    init_default_scope('mmdet')
    cfg = Config.fromfile(f'{repo_root}/{config}')
    cfg.model.detector.num_queries = num_queries
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).train()
    # As the Runner does: Deformable DETR's level_embed is an uninitialized torch.Tensor
    # until init_weights, so without it the forward read whatever memory earlier tests left
    # (NaN scores once, in the full suite).
    model.init_weights()
    head = model.student.bbox_head
    # Image 0: b0, its duplicate b1 and b2 (IoU 0.625 with both), and a separate b3;
    # image 1: four separate boxes.
    pixel_boxes = [[[0, 0, 32, 32], [0, 0, 32, 32], [0, 0, 32, 20], [40, 40, 60, 60]],
                   [[0, 0, 10, 10], [20, 20, 30, 30], [40, 0, 60, 20], [0, 40, 20, 60]]]
    delta = head.loss_contrast.pos_iou_thr
    if head.loss_contrast.positive_set == 'matched':
        expected_count = 8  # one positive per query
    else:
        expected_count = sum(iou_numpy(b, c) >= delta for image in pixel_boxes
                             for b in image for c in image)
        assert expected_count == 10 + 4  # image 0: 3 + 3 + 3 + 1, image 1: 1 each
    teacher_boxes = torch.tensor(xyxy_to_normalized_cxcywh(pixel_boxes, size),
                                 dtype=torch.float32)
    u = F.normalize(torch.randn(head.proj_channels), dim=0)
    teacher_embeds = u.expand(2, num_queries, -1).contiguous()

    samples = []
    for _ in range(2):
        sample = DetDataSample(metainfo=dict(
            img_shape=(size, size), batch_input_shape=(size, size), ori_shape=(size, size),
            scale_factor=(1., 1.)))
        sample.gt_instances = InstanceData(bboxes=torch.tensor([[4., 4., 30., 30.]]),
                                           labels=torch.zeros(1, dtype=torch.long))
        samples.append(sample)
    with torch.no_grad():
        hidden, references = model.query_states(model.student, torch.randn(2, 3, size, size),
                                                samples)
        losses = head.loss(hidden, references, samples, teacher_embeds, teacher_boxes)
        student_embeds = head.embed(hidden[-1], online=True)
    assert losses['positives_per_query'].item() == pytest.approx(expected_count / 8)
    assert losses['matched_cos'].item() == pytest.approx(
        (student_embeds @ u).mean().item(), abs=1e-6)
    # mmengine logs both and leaves them out of the loss it back-propagates.
    total, log_vars = model.parse_losses(losses)
    assert {'positives_per_query', 'matched_cos'} <= set(log_vars)
    torch.testing.assert_close(total, sum(
        v.mean() for k, v in losses.items() if k not in ('positives_per_query', 'matched_cos')))
