"""Tests of FeatureSimilarityCost and ProposalMatchingAssigner.

The batched matching is compared with (a) ``linear_sum_assignment`` on a cost
written out here with explicit numpy loops, (b) mmdet's own match costs and
``HungarianAssigner.assign`` evaluated image by image.
"""
import numpy as np
import pytest
import torch
from mmdet.registry import TASK_UTILS
from mmengine.structures import InstanceData
from scipy.optimize import linear_sum_assignment

import mmproseco  # noqa: F401  (registers the cost and the assigner)
from mmproseco.models.task_modules.proposal_matching_assigner import batched_match_cost

IMG_SHAPES = [(60, 80), (100, 50), (75, 75)]  # (h, w), one per image


def random_boxes(num_images, num_boxes, gen):
    """Absolute xyxy boxes inside each image of IMG_SHAPES."""
    shapes = torch.tensor(IMG_SHAPES[:num_images], dtype=torch.float)
    size = torch.stack([shapes[:, 1], shapes[:, 0]], dim=-1)[:, None]  # w, h
    corner_a = torch.rand(num_images, num_boxes, 2, generator=gen) * size
    corner_b = torch.rand(num_images, num_boxes, 2, generator=gen) * size
    return torch.cat([
        torch.minimum(corner_a, corner_b),
        torch.maximum(corner_a, corner_b) + 1
    ], dim=-1)


def make_batch(num_images=3, num_queries=7, num_teacher=7, dim=5, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return (torch.randn(num_images, num_queries, dim, generator=gen),
            random_boxes(num_images, num_queries, gen),
            torch.randn(num_images, num_teacher, dim, generator=gen),
            random_boxes(num_images, num_teacher, gen))


def explicit_cost(student_embeds, student_boxes, teacher_embeds,
                  teacher_boxes, img_shape, w_feat=1.0, w_l1=5.0, w_giou=2.0):
    """ProSeCo matching cost of one image, entry by entry in numpy."""
    img_h, img_w = img_shape
    cost = np.zeros((len(student_boxes), len(teacher_boxes)))
    for i, (zs, bs) in enumerate(zip(student_embeds, student_boxes)):
        for j, (zt, bt) in enumerate(zip(teacher_embeds, teacher_boxes)):
            cosine = zs @ zt / (np.linalg.norm(zs) * np.linalg.norm(zt))
            cxcywh_s = np.array([(bs[0] + bs[2]) / 2 / img_w,
                                 (bs[1] + bs[3]) / 2 / img_h,
                                 (bs[2] - bs[0]) / img_w,
                                 (bs[3] - bs[1]) / img_h])
            cxcywh_t = np.array([(bt[0] + bt[2]) / 2 / img_w,
                                 (bt[1] + bt[3]) / 2 / img_h,
                                 (bt[2] - bt[0]) / img_w,
                                 (bt[3] - bt[1]) / img_h])
            l1 = np.abs(cxcywh_s - cxcywh_t).sum()
            inter = max(0, min(bs[2], bt[2]) - max(bs[0], bt[0])) * max(
                0, min(bs[3], bt[3]) - max(bs[1], bt[1]))
            area_s = (bs[2] - bs[0]) * (bs[3] - bs[1])
            area_t = (bt[2] - bt[0]) * (bt[3] - bt[1])
            union = area_s + area_t - inter
            hull = (max(bs[2], bt[2]) - min(bs[0], bt[0])) * (
                max(bs[3], bt[3]) - min(bs[1], bt[1]))
            giou = inter / union - (hull - union) / hull
            cost[i, j] = -w_feat * cosine + w_l1 * l1 - w_giou * giou
    return cost


def build_default():
    return TASK_UTILS.build(dict(type='ProposalMatchingAssigner'))


@pytest.mark.parametrize('num_teacher', [7, 4, 10])
def test_match_equals_lsa_on_explicit_cost(num_teacher):
    assigner = build_default()
    batch = make_batch(num_teacher=num_teacher, seed=num_teacher)
    matched = assigner.match(*batch, img_shapes=IMG_SHAPES)
    assert matched.shape == (3, 7) and matched.dtype == torch.long
    for image in range(3):
        cost = explicit_cost(*(x[image].double().numpy() for x in batch),
                             IMG_SHAPES[image])
        rows, cols = linear_sum_assignment(cost)
        expected = np.full(7, -1)
        expected[rows] = cols
        assert matched[image].tolist() == expected.tolist()
        assert (matched[image] == -1).sum() == max(0, 7 - num_teacher)


def test_each_cost_term_matches_mmdet_per_image():
    assigner = build_default()
    student_embeds, student_boxes, teacher_embeds, teacher_boxes = \
        make_batch(num_teacher=6, seed=1)
    img_shapes = torch.tensor(IMG_SHAPES)
    assert [type(c).__name__ for c in assigner.match_costs] == [
        'FeatureSimilarityCost', 'BBoxL1Cost', 'IoUCost'
    ]
    for match_cost in assigner.match_costs:
        batched = batched_match_cost(match_cost, student_embeds,
                                     student_boxes, teacher_embeds,
                                     teacher_boxes, img_shapes)
        assert batched.shape == (3, 7, 6)
        for image in range(3):
            per_image = match_cost(
                pred_instances=InstanceData(
                    bboxes=student_boxes[image], embeds=student_embeds[image]),
                gt_instances=InstanceData(
                    bboxes=teacher_boxes[image], embeds=teacher_embeds[image]),
                img_meta=dict(img_shape=IMG_SHAPES[image]))
            torch.testing.assert_close(batched[image], per_image)


def test_feature_similarity_cost_values():
    cost = TASK_UTILS.build(dict(type='FeatureSimilarityCost', weight=2.0))
    pred = InstanceData(embeds=torch.tensor([[3., 0.], [1., 1.]]))
    gt = InstanceData(embeds=torch.tensor([[0., 2.], [5., 0.], [-1., 0.]]))
    expected = -2.0 * torch.tensor([[0., 1., -1.],
                                    [2**-0.5, 2**-0.5, -2**-0.5]])
    torch.testing.assert_close(cost(pred, gt), expected)


@pytest.mark.parametrize('num_teacher', [7, 3])
def test_batched_match_equals_per_image_assign(num_teacher):
    assigner = build_default()
    batch = make_batch(num_teacher=num_teacher, seed=10 + num_teacher)
    matched = assigner.match(*batch, img_shapes=IMG_SHAPES)
    student_embeds, student_boxes, teacher_embeds, teacher_boxes = batch
    for image in range(3):
        # Teacher proposals carry no labels: assign() adds dummy ones.
        result = assigner.assign(
            InstanceData(
                bboxes=student_boxes[image], embeds=student_embeds[image]),
            InstanceData(
                bboxes=teacher_boxes[image], embeds=teacher_embeds[image]),
            img_meta=dict(img_shape=IMG_SHAPES[image]))
        assert (result.gt_inds - 1).tolist() == matched[image].tolist()


def test_no_teacher_proposals():
    assigner = build_default()
    batch = make_batch(num_teacher=0)
    assert (assigner.match(*batch, img_shapes=IMG_SHAPES) == -1).all()


def test_unsupported_cost_rejected():
    with pytest.raises(ValueError, match='match_costs'):
        TASK_UTILS.build(
            dict(
                type='ProposalMatchingAssigner',
                match_costs=[dict(type='ClassificationCost', weight=1.0)]))
