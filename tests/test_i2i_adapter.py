"""AttentionI2IAdapter training step and the frozen detector of AdaptedDetector."""
import copy
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine.config import Config
from mmengine.logging import MessageHub, MMLogger
from mmengine.model.utils import stack_batch
from mmengine.structures import InstanceData

import mmproseco  # noqa: F401  (registers the modules)
from mmproseco.engine.hooks import TeacherEMAHook
from mmproseco.models.detectors.adapted_detector import load_detector_config
from mmproseco.models.i2i import I2IOptimWrapperConstructor

REPO = Path(__file__).resolve().parents[1]
DETECTOR_CONFIG = str(REPO / 'configs/i2i/faster-rcnn_r18-tiny_fpn_1xb4-cpu_deepforest-clear.py')


def adapter_cfg(**overrides):
    cfg = Config.fromfile(str(REPO / 'configs/_base_/models/attention-i2i_tiny.py')).model
    cfg.generator.base_channels = 4
    cfg.discriminator.base_channels = 4
    cfg.patch_sampler = dict(num_patches=16, embed_dim=8)
    cfg.local_global.projector = dict(hidden_dim=16, embed_dim=8)
    cfg.local_global.loss.embed_dim = 8
    cfg.local_global.loss.queue_size = 8
    cfg.update(overrides)
    return cfg.to_dict()


def unpaired_batch(batch=2, size=32, seed=0):
    g = torch.Generator().manual_seed(seed)

    def images():
        return [torch.randint(0, 256, (3, size, size), generator=g, dtype=torch.uint8)
                for _ in range(batch)]

    return dict(inputs=dict(source=images(), target=images()), data_samples=None)


def optim_wrappers(model):
    adam = dict(optimizer=dict(type='Adam', lr=1e-3, betas=(0.5, 0.99)))
    return I2IOptimWrapperConstructor(dict(generator=adam, discriminator=adam))(model)


def snapshot(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def changed(before, module):
    return [k for k, v in module.state_dict().items() if not torch.equal(before[k], v)]


def test_train_step_updates_generator_discriminator_momentum_and_queues():
    torch.manual_seed(0)
    adapter = MODELS.build(adapter_cfg())
    adapter.init_weights()
    # The hook of the config (momentum 0.99), driven by a stand-in for the runner.
    hook = TeacherEMAHook(momentum=0.99, momentum_schedule='constant')
    runner = SimpleNamespace(model=adapter, iter=0, max_iters=10, hooks=[],
                             message_hub=MessageHub.get_instance('i2i_adapter_test'),
                             logger=MMLogger.get_current_instance())
    hook.before_train(runner)
    assert len(adapter.momentum_pairs()) == 3
    for online, momentum in adapter.momentum_pairs():
        online_state = online.state_dict()
        for k, v in momentum.state_dict().items():
            torch.testing.assert_close(v, online_state[k])  # momentum copy starts equal
    wrappers = optim_wrappers(adapter)
    g0, d0 = snapshot(adapter.generator), snapshot(adapter.discriminator)
    m0 = snapshot(adapter.momentum_encoder)
    log_vars = adapter.train_step(unpaired_batch(), wrappers)
    hook.after_train_iter(runner, batch_idx=0)
    assert {'loss_d', 'loss_d_real', 'loss_d_fake', 'loss_g', 'loss_gan', 'loss_nce',
            'loss_nce_idt', 'loss_lg_gg', 'loss_lg_lg', 'loss_lg_ll'} <= set(log_vars)
    assert all(torch.isfinite(torch.as_tensor(v)) for v in log_vars.values())
    assert changed(g0, adapter.generator) and changed(d0, adapter.discriminator)
    # EMA: new momentum weights = 0.99·old + 0.01·online
    online = adapter.generator.encoder.state_dict()
    name = 'stages.0.1.weight'
    torch.testing.assert_close(adapter.momentum_encoder.state_dict()[name],
                               0.99 * m0[name] + 0.01 * online[name])
    assert adapter.local_global_loss.global_queue.ptr.item() == 2
    assert adapter.local_global_loss.global_queue.filled.sum() == 2
    assert adapter.discriminator.model[0].weight.requires_grad


def test_cut_variant_and_translation_shape():
    adapter = MODELS.build(
        adapter_cfg(local_global=None, generator=dict(
            type='AttentionGuidedGenerator', base_channels=4, num_blocks=2, use_attention=False)))
    log_vars = adapter.train_step(unpaired_batch(), optim_wrappers(adapter))
    assert 'loss_lg_gg' not in log_vars and 'loss_nce' in log_vars
    assert adapter(torch.rand(1, 3, 21, 19)).shape == (1, 3, 21, 19)


@pytest.mark.parametrize('overrides, field', [
    (dict(nce_layers=(0, 99)), 'nce_layers'),
    (dict(local_global=dict(loss=dict(type='LocalGlobalContrastiveLoss', layer_weights=(1.0, ),
                                      embed_dim=8, queue_size=8))), 'layer_weights'),
    # the momentum moved to the hook: an old config fails, naming it
    (dict(local_global=dict(momentum=0.99)), 'TeacherEMAHook'),
])
def test_bad_configs_fail_at_build_time(overrides, field):
    with pytest.raises(ValueError, match=field):
        MODELS.build(adapter_cfg(**overrides))


def detection_sample(height, width):
    sample = DetDataSample(metainfo=dict(img_shape=(height, width), ori_shape=(height, width),
                                         scale_factor=(1.0, 1.0)))
    sample.gt_instances = InstanceData(bboxes=torch.tensor([[4., 4., 30., 30.]]),
                                       labels=torch.tensor([0]))
    return sample


def detection_batch(size=64, width=None, seed=1):
    width = width or size
    image = torch.randint(0, 256, (3, size, width), generator=torch.Generator().manual_seed(seed),
                          dtype=torch.uint8)
    return dict(inputs=[image], data_samples=[detection_sample(size, width)])


@pytest.fixture(scope='module')
def detector_checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    detector = MODELS.build(Config.fromfile(DETECTOR_CONFIG).model)
    detector.init_weights()
    path = tmp_path_factory.mktemp('ckpt') / 'detector.pth'
    torch.save(dict(state_dict=detector.state_dict()), path)
    return path, detector


def test_adapted_detector_never_changes_or_grads_the_detector(detector_checkpoint):
    path, reference = detector_checkpoint
    model = MODELS.build(
        dict(type='AdaptedDetector', detector=DETECTOR_CONFIG, detector_checkpoint=str(path),
             adapter=adapter_cfg()))
    model.init_weights()  # the runner does this before training; loaded weights must survive
    for k, v in model.detector.state_dict().items():
        torch.testing.assert_close(v, reference.state_dict()[k])
    before, adapter_before = snapshot(model.detector), snapshot(model.adapter.generator)
    model.train()
    assert not model.detector.training
    wrappers = optim_wrappers(model)
    optimised = {id(p) for w in wrappers.values() for g in w.optimizer.param_groups
                 for p in g['params']}
    assert not optimised & {id(p) for p in model.detector.parameters()}
    for seed in range(2):
        model.train_step(unpaired_batch(seed=seed), wrappers)
    assert changed(before, model.detector) == []
    assert all(p.grad is None and not p.requires_grad for p in model.detector.parameters())
    assert changed(adapter_before, model.adapter.generator)


def test_adapted_detector_predicts_like_the_bare_detector_without_translation(detector_checkpoint):
    path, reference = detector_checkpoint
    model = MODELS.build(
        dict(type='AdaptedDetector', detector=DETECTOR_CONFIG, detector_checkpoint=str(path),
             adapter=adapter_cfg(), translate=False))
    model.eval()
    reference.eval()
    data = detection_batch()
    ours = model.test_step(copy.deepcopy(data))[0].pred_instances
    bare = reference.test_step(copy.deepcopy(data))[0].pred_instances
    torch.testing.assert_close(ours.bboxes, bare.bboxes)
    torch.testing.assert_close(ours.scores, bare.scores)
    model.translate = True
    translated = model.test_step(copy.deepcopy(data))[0]
    assert {'bboxes', 'scores', 'labels'} <= set(translated.pred_instances.keys())
    with pytest.raises(ValueError, match='normalise'):
        MODELS.build(dict(type='AdaptedDetector', detector=DETECTOR_CONFIG, adapter=adapter_cfg(),
                          data_preprocessor=dict(type='DetDataPreprocessor', mean=[0, 0, 0],
                                                 std=[1, 1, 1])))


def adapted_detector(detector_checkpoint, **kwargs):
    torch.manual_seed(0)
    model = MODELS.build(dict(type='AdaptedDetector', detector=DETECTOR_CONFIG,
                              detector_checkpoint=str(detector_checkpoint[0]),
                              adapter=adapter_cfg(), **kwargs))
    model.init_weights()
    return model.eval()


def test_padded_batch_translates_like_the_unpadded_image(detector_checkpoint):
    model = adapted_detector(detector_checkpoint)
    small = detection_batch(40, 36, seed=2)
    large = detection_batch(64, seed=3)
    alone = small['inputs'][0].float()
    # the old configs' batch: both images padded with black to a multiple of 32
    padded = stack_batch([alone, large['inputs'][0].float()], pad_size_divisor=32)
    samples = small['data_samples'] + large['data_samples']
    with torch.no_grad():
        ours = model.adapt_pixels(padded, samples)
        reference = model.adapt_pixels(alone[None], small['data_samples'])[0]
        # translating the padded tensor, as before, changes the pixels inside img_shape
        pre = model.adapter.data_preprocessor
        whole = pre.to_pixels(model.adapter.translate(pre.normalize(padded[:1])))
    assert ours[0].shape == (3, 40, 36) and ours[1].shape == (3, 64, 64)
    assert torch.equal(ours[0], reference)
    assert not torch.equal(whole[0, :, :40, :36], reference)
    assert torch.equal(reference, reference.round()) and 0 <= reference.min() <= 255
    # and the detections of the padded image are those of the unpadded one
    with torch.no_grad():
        from_padded = model.predict(padded[:1], copy.deepcopy(small['data_samples']))
        from_alone = model.predict(alone[None], copy.deepcopy(small['data_samples']))
    assert len(from_alone[0].pred_instances) > 0
    assert torch.equal(from_padded[0].pred_instances.bboxes, from_alone[0].pred_instances.bboxes)


def identity_adapter_(model):
    """Make the translator the identity: the background attention map takes all the weight."""
    last = model.adapter.generator.attention_generator.layers[-1][-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.fill_(-1e4)
        last.bias[-1] = 0.
    return model


def test_identity_translator_reproduces_the_source_row_exactly(detector_checkpoint):
    # a size that is no multiple of 32, so the detector's own padding takes part
    data = detection_batch(50, 44, seed=4)
    _, bare = detector_checkpoint
    bare.eval()
    expected = bare.test_step(copy.deepcopy(data))[0].pred_instances
    assert len(expected) > 0
    source = adapted_detector(detector_checkpoint, translate=False)
    identity = identity_adapter_(adapted_detector(detector_checkpoint))
    pixels = identity.data_preprocessor(copy.deepcopy(data))['inputs']
    with torch.no_grad():
        assert torch.equal(identity.adapt_pixels(pixels)[0], pixels[0])
    for model in (source, identity):
        ours = model.test_step(copy.deepcopy(data))[0].pred_instances
        for key in ('bboxes', 'scores', 'labels'):
            assert torch.equal(ours[key], expected[key]), key


def test_translation_grid_rows_show_each_image_inside_its_img_shape(detector_checkpoint):
    """The grid's panels are the image as loaded (40 x 36 here, which the detector pads to
    64 x 64): no padding band in the input, the translation or the n + 1 attention maps, and
    the translation is the one the detector sees."""
    from mmproseco.pipeline.i2i_figures import translation_rows
    model = adapted_detector(detector_checkpoint)
    batch = detection_batch(40, 36, seed=4)
    item = dict(inputs=batch['inputs'][0], data_samples=batch['data_samples'][0])
    row, = translation_rows(model, [item], num_images=3)
    assert row['input'].shape == row['translation'].shape == (40, 36, 3)
    num_maps = model.adapter.generator.num_content_maps + 1
    assert row['attention'].shape == (num_maps, 40, 36)
    np.testing.assert_allclose(row['attention'].sum(0), 1, atol=1e-5)  # softmax over maps
    with torch.no_grad():
        seen = model.adapt_pixels(item['inputs'][None].float(), [item['data_samples']])[0]
    np.testing.assert_array_equal(row['translation'], seen.flip(0).permute(1, 2, 0).byte())
    np.testing.assert_array_equal(row['input'], item['inputs'].flip(0).permute(1, 2, 0))


def test_detector_config_resolves_from_any_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = Config.fromfile(str(REPO / 'configs/i2i/attention-i2i_tiny_1xb4-cpu_deepforest-fog.py'))
    assert Path(cfg.model.detector).is_absolute() and Path(cfg.model.detector).is_file()
    assert load_detector_config(cfg.model.detector).type == 'FasterRCNN'
    assert load_detector_config('mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py').type == \
        'FasterRCNN'
    with pytest.raises(FileNotFoundError, match='fileDirname'):
        load_detector_config('configs/i2i/faster-rcnn_r18-tiny_fpn_1xb4-cpu_deepforest-clear.py')
