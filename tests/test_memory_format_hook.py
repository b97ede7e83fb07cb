"""MemoryFormatHook: NHWC weights, the same numbers, checkpoints that load anywhere."""
import pytest
import torch
from mmdet.models.backbones import ResNet
from mmengine.config import Config

from mmproseco.engine.hooks import MemoryFormatHook


def tiny_resnet():
    torch.manual_seed(0)
    model = ResNet(depth=18, base_channels=8, out_indices=(1, 2, 3))
    model.eval()  # mmdet's ResNet.train returns None, so eval() cannot be chained
    return model


def test_channels_last_weights_and_outputs_match_the_default_format():
    reference, converted = tiny_resnet(), tiny_resnet()
    MemoryFormatHook('channels_last').apply(converted)
    conv = converted.conv1.weight
    assert conv.is_contiguous(memory_format=torch.channels_last) and not conv.is_contiguous()
    image = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        for ref, out in zip(reference(image), converted(image)):
            assert out.is_contiguous(memory_format=torch.channels_last)
            torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-5)


def test_weights_saved_channels_last_load_into_a_default_model():
    converted = MemoryFormatHook('channels_last').apply(tiny_resnet())
    state = {k: v.clone() for k, v in converted.state_dict().items()}
    fresh = ResNet(depth=18, base_channels=8, out_indices=(1, 2, 3))
    fresh.load_state_dict(state)
    assert fresh.conv1.weight.is_contiguous()
    for key, value in fresh.state_dict().items():
        torch.testing.assert_close(value, state[key], rtol=0, atol=0)


def test_contiguous_format_undoes_it():
    model = MemoryFormatHook('channels_last').apply(tiny_resnet())
    MemoryFormatHook('contiguous_format').apply(model)
    assert model.conv1.weight.is_contiguous()


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match='memory_format must be one of'):
        MemoryFormatHook('nhwc')


def test_cpu_configs_train_with_fused_adamw_and_channels_last_is_an_option():
    cfg = Config.fromfile('configs/finetune/deformable-detr_r18-tiny_1xb8-cpu_shapes-finetune.py')
    assert cfg.optim_wrapper.optimizer.fused and cfg.optim_wrapper.clip_grad.foreach
    assert cfg.optim_wrapper.optimizer.type == 'AdamW'
    assert 'memory_format' not in cfg.default_hooks  # it did not pay (docs/benchmarks.md)
    cfg.merge_from_dict({'default_hooks.memory_format.type': 'MemoryFormatHook'})
    assert cfg.default_hooks.memory_format == dict(type='MemoryFormatHook')
