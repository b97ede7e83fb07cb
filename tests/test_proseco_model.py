"""The ProSeCo detector and its head, at CPU size, on real mmdet modules."""
import copy

import pytest
import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

import mmproseco  # noqa: F401
from mmproseco.models.heads.locsce_head import boxes_to_pixels

CONFIG = 'configs/proseco/proseco_deformable-detr_r18-tiny_1xb8-cpu_shapes.py'


def data_samples(batch, size=64, num_boxes=6, seed=0):
    gen = torch.Generator().manual_seed(seed)
    samples = []
    for _ in range(batch):
        sample = DetDataSample(metainfo=dict(img_shape=(size, size), batch_input_shape=(size, size),
                                             ori_shape=(size, size), scale_factor=(1., 1.)))
        xy = torch.rand(num_boxes, 2, generator=gen) * (size / 2)
        wh = torch.rand(num_boxes, 2, generator=gen) * (size / 3) + 4
        sample.gt_instances = InstanceData(bboxes=torch.cat([xy, xy + wh], 1),
                                           labels=torch.zeros(num_boxes, dtype=torch.long))
        samples.append(sample)
    return samples


@pytest.fixture(scope='module')
def model(repo_root):
    init_default_scope('mmdet')
    cfg = Config.fromfile(f'{repo_root}/{CONFIG}')
    cfg.model.detector.num_queries = 12
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    # What TeacherEMAHook does at iteration 0; the teacher has no predictor.
    missing, unexpected = model.teacher.load_state_dict(model.student.state_dict(), strict=False)
    assert not missing and unexpected and all('.predictor.' in k for k in unexpected)
    return model.train()


def test_boxes_to_pixels():
    boxes = torch.tensor([[[0.5, 0.5, 0.2, 0.4]], [[0.25, 0.75, 0.5, 0.5]]])
    out = boxes_to_pixels(boxes, [(100, 200), (40, 80)])
    assert torch.allclose(out, torch.tensor([[[80., 30., 120., 70.]], [[0., 20., 40., 40.]]]))


def test_loss_trains_the_student_only(model):
    images = torch.randn(2, 3, 64, 64)
    samples = data_samples(2)
    losses = model.loss(dict(teacher=images, student=images + 0.1 * torch.randn_like(images)),
                        dict(teacher=samples, student=copy.deepcopy(samples)))
    for key in ('loss_bbox', 'loss_iou', 'd0.loss_bbox', 'loss_contrast'):
        assert torch.isfinite(losses[key]) and losses[key] > 0, key
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    assert not any(p.requires_grad for p in model.teacher.parameters())
    head = model.student.bbox_head
    for module in (head.projector, head.predictor, head.reg_branches,
                   model.student.encoder, model.student.backbone):
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in module.parameters())
    model.zero_grad()


def test_teacher_stays_in_eval_mode(model):
    model.train()
    assert model.student.training and not model.teacher.training


def test_contrast_matches_the_hand_assembled_loss(model):
    """The head's LocSCE call equals assembling the flat batch by hand."""
    head = model.student.bbox_head
    torch.manual_seed(1)
    images = torch.randn(2, 3, 64, 64)
    samples = data_samples(2, seed=1)
    with torch.no_grad():
        hidden, refs = model.query_states(model.teacher, images, samples)
        _, t_boxes = model.teacher.bbox_head(hidden, refs)
        t_embeds = model.teacher.bbox_head.embed(hidden[-1], online=False)
        s_hidden, s_refs = model.query_states(model.student, images, samples)
        losses = head.loss(s_hidden, s_refs, samples, t_embeds, t_boxes[-1])
        s_embeds = head.embed(s_hidden[-1], online=True)
        _, s_boxes = head(s_hidden, s_refs)
        shapes = [(64, 64)] * 2
        s_pix, t_pix = boxes_to_pixels(s_boxes[-1], shapes), boxes_to_pixels(t_boxes[-1], shapes)
        matched = head.proposal_assigner.match(s_embeds, s_pix, t_embeds, t_pix, shapes)
        n = t_embeds.shape[1]
        flat_match = torch.cat([matched[0], matched[1] + n])
        expected = head.loss_contrast(s_embeds.reshape(2 * n, -1), t_embeds.reshape(2 * n, -1),
                                      t_pix.reshape(2 * n, 4),
                                      torch.tensor([0] * n + [1] * n), flat_match)
    assert sorted(matched[0].tolist()) == list(range(n))  # a full permutation per image
    assert torch.allclose(losses['loss_contrast'], expected)


def test_frozen_backbone_gets_no_gradient(repo_root, tmp_path):
    init_default_scope('mmdet')
    cfg = Config.fromfile(f'{repo_root}/{CONFIG}')
    # A frozen backbone must come with weights (a random one is refused at build time).
    weights = tmp_path / 'backbone.pth'
    torch.save(dict(state_dict=MODELS.build(cfg.model.detector.backbone).state_dict()), weights)
    cfg.model.detector.backbone.init_cfg = dict(type='Pretrained', checkpoint=str(weights))
    cfg.model.freeze_backbone = True
    cfg.model.detector.num_queries = 8
    model = MODELS.build(cfg.model).train()
    assert not model.student.backbone.training
    assert not any(p.requires_grad for p in model.student.backbone.parameters())
    assert any(p.requires_grad for p in model.student.encoder.parameters())
