"""``sce_loss`` against in-batch SCE written out from the formula of Denize et al. (WACV 2023)
with plain Python loops and ``math``, and the options checked once, at build time."""
import math
import os.path as osp

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmproseco  # noqa: F401  (registers SCELoss)
from mmproseco.models.losses.sce import SCELoss, matched_mask, sce_loss, sce_targets

IMAGE_SCE_CONFIG = 'configs/selfsup/image-sce_r18-tiny_1xb32-cpu_shapes.py'
OPTIONS = dict(coeff=0.3, temperature=0.2, teacher_temperature=0.07, row_norm='l1',
               teacher_mask='self')


def reference_sce(student, teacher, positives, matched, coeff, temperature,
                  teacher_temperature, row_norm, teacher_mask):
    """-1/M sum_i sum_k w_ik log p_ik, one query and one key at a time.

    p_ik = exp(q_i.k_k / tau) / sum_l exp(q_i.k_l / tau) and, over the keys left after
    masking, s_ik = exp(k_m(i).k_k / tau_m) / sum_l exp(k_m(i).k_l / tau_m);
    w_ik = coeff * 1[k in P(i)] + (1 - coeff) * s_ik, then normalised per row.
    """
    q, k = student.tolist(), teacher.tolist()
    pos, match = positives.tolist(), matched.tolist()

    def dot(a, b):
        return sum(x * y for x, y in zip(a, b))

    total = 0.0
    for i in range(len(q)):
        anchor = match[i]
        keep = [not pos[i][j] if teacher_mask == 'positives' else j != anchor
                for j in range(len(k))]
        if not any(keep):
            keep = [j != anchor for j in range(len(k))]
        teacher_exp = [math.exp(dot(k[anchor], k[j]) / teacher_temperature) if keep[j] else 0.
                       for j in range(len(k))]
        soft = [e / sum(teacher_exp) for e in teacher_exp]
        hard = [float(p) for p in pos[i]]
        if row_norm == 'mean':
            hard = [h / sum(hard) for h in hard]
        target = [coeff * h + (1 - coeff) * s for h, s in zip(hard, soft)]
        if row_norm == 'l1':
            target = [t / sum(target) for t in target]
        logits = [dot(q[i], k[j]) / temperature for j in range(len(k))]
        log_z = math.log(sum(math.exp(v) for v in logits))
        total -= sum(t * (v - log_z) for t, v in zip(target, logits))
    return total / len(q)


def unit(*shape, seed):
    gen = torch.Generator().manual_seed(seed)
    return F.normalize(torch.randn(*shape, generator=gen, dtype=torch.double), dim=-1)


def random_positives(matched, num_keys, seed):
    """A random positive set per query that always holds the query's key."""
    gen = torch.Generator().manual_seed(seed)
    extra = torch.rand(len(matched), num_keys, generator=gen) < 0.3
    return extra | matched_mask(matched, num_keys)


def test_in_batch_sce_matches_the_formula():
    # SCE proper: M = K, query i's key is the other view of the same image.
    student, teacher = unit(6, 5, seed=0), unit(6, 5, seed=1)
    index = torch.arange(6)
    loss = sce_loss(student, teacher, matched_mask(index, 6), index, **OPTIONS)
    expected = reference_sce(student, teacher, matched_mask(index, 6), index, **OPTIONS)
    assert loss.item() == pytest.approx(expected, rel=1e-12)
    # The one-hot target is a distribution whatever the normalisation.
    for row_norm in ('none', 'mean'):
        options = dict(OPTIONS, row_norm=row_norm)
        other = sce_loss(student, teacher, matched_mask(index, 6), index, **options)
        assert other.item() == pytest.approx(expected, rel=1e-12)


def test_more_keys_than_queries_matches_the_formula():
    student, teacher = unit(4, 5, seed=2), unit(9, 5, seed=3)
    matched = torch.tensor([7, 0, 3, 3])
    positives = matched_mask(matched, 9)
    loss = sce_loss(student, teacher, positives, matched, **OPTIONS)
    expected = reference_sce(student, teacher, positives, matched, **OPTIONS)
    assert loss.item() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize('row_norm', ['l1', 'none', 'mean'])
@pytest.mark.parametrize('teacher_mask', ['self', 'positives'])
def test_positive_sets_match_the_formula(row_norm, teacher_mask):
    student, teacher = unit(8, 6, seed=4), unit(10, 6, seed=5)
    matched = torch.tensor([0, 2, 4, 6, 8, 9, 1, 4])
    positives = random_positives(matched, 10, seed=6)
    assert 1 < positives.sum(dim=1).max() < 10, 'fixture must mix positive set sizes'
    options = dict(coeff=0.6, temperature=0.15, teacher_temperature=0.05, row_norm=row_norm,
                   teacher_mask=teacher_mask)
    loss = sce_loss(student, teacher, positives, matched, **options)
    expected = reference_sce(student, teacher, positives, matched, **options)
    assert loss.item() == pytest.approx(expected, rel=1e-10)


def test_fully_positive_row_masks_its_own_key_only():
    student, teacher = unit(3, 4, seed=7), unit(5, 4, seed=8)
    matched = torch.tensor([1, 2, 4])
    positives = matched_mask(matched, 5)
    positives[0] = True  # every key is a positive of query 0
    options = dict(OPTIONS, teacher_mask='positives')
    targets = sce_targets(teacher, positives, matched, coeff=0.0, teacher_temperature=0.07,
                          row_norm='l1', teacher_mask='positives')
    assert torch.isfinite(targets).all()
    assert targets[0, 1] == 0 and (targets[0, [0, 2, 3, 4]] > 0).all()
    loss = sce_loss(student, teacher, positives, matched, **options)
    assert loss.item() == pytest.approx(
        reference_sce(student, teacher, positives, matched, **options), rel=1e-12)


def test_gradient_reaches_the_student_only():
    student = unit(4, 3, seed=9).requires_grad_(True)
    teacher = unit(4, 3, seed=10).requires_grad_(True)
    index = torch.arange(4)
    sce_loss(student, teacher, matched_mask(index, 4), index, **OPTIONS).backward()
    assert student.grad is not None and student.grad.abs().sum() > 0
    assert teacher.grad is None


def test_module_is_the_weighted_function_and_gathers_nothing_alone():
    student, teacher = unit(5, 4, seed=11), unit(5, 4, seed=12)
    index = torch.arange(5)
    module = MODELS.build(dict(type='SCELoss', loss_weight=2.5, gather_keys=True, **OPTIONS))
    assert isinstance(module, SCELoss)
    torch.testing.assert_close(
        module(student, teacher, matched_mask(index, 5), index),
        2.5 * sce_loss(student, teacher, matched_mask(index, 5), index, **OPTIONS))


def _gathered_rank(rank, world_size, init_file, out_dir):
    dist.init_process_group('gloo', init_method=f'file://{init_file}', rank=rank,
                            world_size=world_size)
    student, teacher = unit(world_size, 3, 4, seed=13), unit(world_size, 3, 4, seed=14)
    matched = torch.tensor([2, 0, 0])
    positives = matched_mask(matched, 3)
    positives[1, 2] = True
    loss = SCELoss(gather_keys=True, **OPTIONS)(student[rank], teacher[rank], positives,
                                                matched)
    torch.save(loss.detach(), osp.join(out_dir, f'rank{rank}.pt'))
    dist.destroy_process_group()


def test_gather_keys_contrasts_with_the_keys_of_every_rank(tmp_path):
    world_size = 2
    mp.spawn(_gathered_rank, args=(world_size, str(tmp_path / 'init'), str(tmp_path)),
             nprocs=world_size)
    student, teacher = unit(world_size, 3, 4, seed=13), unit(world_size, 3, 4, seed=14)
    all_keys = teacher.flatten(0, 1)
    for rank in range(world_size):
        # Rank r's queries see all 6 keys; their own keys are the block 3r..3r+2.
        matched = torch.tensor([2, 0, 0]) + 3 * rank
        positives = matched_mask(matched, 6)
        positives[1, 3 * rank + 2] = True
        expected = reference_sce(student[rank], all_keys, positives, matched, **OPTIONS)
        got = torch.load(osp.join(tmp_path, f'rank{rank}.pt'), weights_only=True)
        assert got.item() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize('field, value', [
    ('coeff', -0.1),
    ('coeff', 1.5),
    ('temperature', 0.0),
    ('teacher_temperature', -1.0),
    ('row_norm', 'l2'),
    ('teacher_mask', 'all'),
])
def test_bad_option_raises_at_build_time(repo_root, field, value):
    with pytest.raises(ValueError, match=f'SCELoss: {field}'):
        MODELS.build(dict(type='SCELoss', **{field: value}))
    init_default_scope('mmdet')
    cfg = Config.fromfile(f'{repo_root}/{IMAGE_SCE_CONFIG}')
    cfg.model.loss[field] = value
    with pytest.raises(ValueError, match=f'SCELoss: {field}'):
        MODELS.build(cfg.model)
