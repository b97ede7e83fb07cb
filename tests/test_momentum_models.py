"""The models' momentum pairs: each momentum copy is frozen and carries only what it runs."""
import glob
import os.path as osp

import pytest
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmproseco  # noqa: F401
from mmproseco.engine.hooks.teacher_ema_hook import model_momentum_pairs
from mmproseco.models.utils import paired_tensors

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
PROSECO = 'configs/proseco/proseco_deformable-detr_r18-tiny_1xb8-cpu_shapes.py'
IMAGE_SCE = 'configs/selfsup/image-sce_r18-tiny_1xb32-cpu_shapes.py'


@pytest.fixture(scope='module')
def proseco(repo_root):
    init_default_scope('mmdet')
    cfg = Config.fromfile(f'{repo_root}/{PROSECO}')
    cfg.model.detector.num_queries = 8
    return MODELS.build(cfg.model)


def check_pairs(model, expected_pairs):
    pairs = model_momentum_pairs(model)
    assert len(pairs) == expected_pairs
    for online, momentum in pairs:
        assert not any(p.requires_grad for p in momentum.parameters())
        online_params, momentum_params = paired_tensors(online, momentum, 'parameters')
        assert len(online_params) == len(momentum_params) == len(list(momentum.parameters()))


def test_proseco_teacher_has_no_predictor_assigner_matcher_or_contrastive_loss(proseco):
    check_pairs(proseco, 1)
    student, teacher = proseco.student.bbox_head, proseco.teacher.bbox_head
    for name in ('predictor', 'assigner', 'proposal_assigner', 'loss_contrast'):
        assert hasattr(student, name) and not hasattr(teacher, name), name
    teacher_keys = set(proseco.teacher.state_dict())
    assert teacher_keys < set(proseco.student.state_dict())
    assert {k for k in proseco.student.state_dict() if k not in teacher_keys} == {
        k for k in proseco.student.state_dict() if '.predictor.' in k}


def test_image_sce_teacher_is_backbone_and_projector(repo_root):
    init_default_scope('mmdet')
    model = MODELS.build(Config.fromfile(f'{repo_root}/{IMAGE_SCE}').model)
    check_pairs(model, 1)
    assert list(model.teacher) == ['backbone', 'projector']


def test_i2i_adapter_pairs_only_with_the_local_global_term(repo_root):
    cfg = Config.fromfile(f'{repo_root}/configs/_base_/models/attention-i2i_tiny.py')
    check_pairs(MODELS.build(cfg.model), 3)
    assert cfg.custom_hooks[0].type == 'TeacherEMAHook'
    cfg.model.local_global = None
    assert model_momentum_pairs(MODELS.build(cfg.model)) == []
    # the ablations without it drop the hook, which refuses a model without momentum copies
    for name in ('attention-i2i-no-lg', 'cut'):
        path = f'{repo_root}/configs/i2i/{name}_tiny_1xb4-cpu_deepforest-fog.py'
        assert Config.fromfile(path).custom_hooks == []


def test_crop_embedder_pairs_only_with_a_key_encoder(repo_root):
    cfg = Config.fromfile(f'{repo_root}/configs/_base_/models/ranked-contrastive_r18-cpu.py')
    cfg.model.head.loss = dict(type='SupConLoss', classes=('a', 'b'))
    assert model_momentum_pairs(MODELS.build(cfg.model)) == []
    cfg.model.key_encoder = dict(queue_size=8)
    check_pairs(MODELS.build(cfg.model), 2)


def nested_dicts(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from nested_dicts(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from nested_dicts(value)


@pytest.mark.parametrize('path', sorted(glob.glob(f'{REPO}/configs/**/*.py', recursive=True)))
def test_configs_set_momentum_on_the_hook_only(path):
    """The removed model options appear in no config, and every model with momentum copies
    (a MoCo key encoder, the local-global term, a teacher) has the hook."""
    cfg = Config.fromfile(path)
    model = cfg.get('model') or {}
    key_encoder = [d['key_encoder'] for d in nested_dicts(model) if d.get('key_encoder')]
    local_global = [d['local_global'] for d in nested_dicts(model) if d.get('local_global')]
    assert not any('decay' in d for d in key_encoder)
    assert not any('momentum' in d for d in local_global)
    hooks = [h['type'] for h in cfg.get('custom_hooks', [])]
    needs_hook = bool(key_encoder or local_global) or model.get('type') in ('ProSeCo', 'ImageSCE')
    assert needs_hook == ('TeacherEMAHook' in hooks), hooks
