"""Image-level SCE: the loss equals in-batch SCE written out independently; only the
student learns."""
import torch
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmproseco  # noqa: F401

IMAGE_SCE_CONFIG = 'configs/selfsup/image-sce_r18-tiny_1xb32-cpu_shapes.py'


def sce_reference(q, k, coeff=0.5, temp=0.1, temp_m=0.07):
    """eztorch's compute_sce_loss with use_keys=True (self entry masked), in a loop."""
    total = 0.
    for i in range(len(q)):
        teacher = torch.tensor([(k[i] @ k[j]) / temp_m if j != i else -1e9
                                for j in range(len(k))])
        target = coeff * torch.eye(len(k))[i] + (1 - coeff) * teacher.softmax(0)
        total += -(target * torch.log_softmax(q[i] @ k.T / temp, 0)).sum()
    return total / len(q)


def test_image_sce_loss_and_gradients(repo_root):
    init_default_scope('mmdet')
    cfg = Config.fromfile(f'{repo_root}/{IMAGE_SCE_CONFIG}')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).train()
    teacher_view, student_view = torch.randn(4, 3, 32, 32), torch.randn(4, 3, 32, 32)
    loss = model.loss(dict(teacher=teacher_view, student=student_view), {})['loss_sce']
    with torch.no_grad():
        # The same forward passes again (train-mode batch norm sees the same batches).
        k = model.embed(model.teacher, teacher_view, online=False)
        q = model.embed(model.student, student_view, online=True)
    assert torch.allclose(loss, sce_reference(q, k), atol=1e-5)
    loss.backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    assert model.student['predictor'].layers[0].weight.grad.abs().sum() > 0


def test_image_sce_backbone_starts_proseco_frozen(repo_root, tmp_path):
    """The recipe of docs/proseco.md, as the pipeline's stages pass it: ProSeCo's student
    and teacher start from the backbone the ``backbone`` stage keeps of ImageSCE, which
    stays frozen. Both sides come from the configs' ``pretrain_export``."""
    from mmproseco.pipeline.checkpoints import export_state_dict, save_weights
    from mmproseco.pipeline.stages import backbone_options, pretrain_export
    from mmproseco.tools.cli import load_config
    init_default_scope('mmdet')
    torch.manual_seed(0)
    image_sce_config = f'{repo_root}/{IMAGE_SCE_CONFIG}'
    image_sce = MODELS.build(Config.fromfile(image_sce_config).model)
    checkpoint = tmp_path / 'backbone.pth'
    save_weights(checkpoint, export_state_dict(
        image_sce.state_dict(), pretrain_export(image_sce_config)['source'])[0])
    expected = image_sce.student['backbone'].state_dict()

    config = f'{repo_root}/configs/proseco/proseco_deformable-detr_r18-tiny_1xb8-cpu_shapes.py'
    options = backbone_options(pretrain_export(config), checkpoint, freeze=True)
    proseco = MODELS.build(load_config(config, options).model)
    student = proseco.student.backbone.state_dict()
    assert not all(torch.equal(student[k], expected[k]) for k in expected)  # not by chance
    proseco.init_weights()
    for branch in (proseco.student, proseco.teacher):
        loaded = branch.backbone.state_dict()
        assert loaded.keys() == expected.keys()
        assert all(torch.equal(loaded[k], expected[k]) for k in expected)
    assert not any(p.requires_grad for p in proseco.student.backbone.parameters())
