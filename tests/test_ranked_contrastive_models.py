"""Crop models: training steps, the MoCo key encoder and queue, prediction, and the configs."""
import argparse
import glob
import json
import os.path as osp
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import HorizontalBoxes
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.logging import MessageHub, MMLogger
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapper
from mmengine.runner import Runner
from mmengine.structures import InstanceData

import mmproseco  # noqa: F401
from mmproseco.engine.hooks import TeacherEMAHook

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CLASSES = ('a', 'b', 'c')
TINY = dict(
    data_preprocessor=dict(type='ObjectCropDataPreprocessor', crop_size=16),
    backbone=dict(type='CifarResNet', depth=18, base_channels=8, out_indices=(3, ),
                  norm_eval=False, init_cfg=None))


def _data(seed=0):
    rng = np.random.default_rng(seed)
    inputs, samples = [], []
    for labels in ([0, 1], [2, 0, 1]):
        inputs.append(torch.from_numpy(rng.integers(0, 255, (3, 40, 40), dtype=np.uint8)))
        boxes = [[2 + 10 * i, 3, 14 + 10 * i, 20] for i in range(len(labels))]
        sample = DetDataSample(metainfo=dict(crop_role='train'))
        sample.gt_instances = InstanceData(
            bboxes=HorizontalBoxes(torch.tensor(boxes, dtype=torch.float32)),
            labels=torch.tensor(labels))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def _embedder(**kwargs):
    loss = dict(type='RankedContrastiveLoss', classes=CLASSES, class_ranks={'a': [['b']]},
                temperatures=(0.1, 0.3))
    head = dict(type='ContrastiveEmbeddingHead', in_channels=64, out_channels=8, loss=loss)
    model = MODELS.build(dict(type='CropEmbedder', head=head, **TINY, **kwargs))
    model.init_weights()
    return model


def test_in_batch_embedder_trains_and_predicts():
    torch.manual_seed(0)
    model = _embedder()
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    before = model.backbone.conv1.weight.clone()
    losses = model.train_step(_data(), wrapper)
    assert set(losses) == {'loss', 'loss_contrastive'} and torch.isfinite(losses['loss'])
    assert not torch.equal(before, model.backbone.conv1.weight)
    model.eval()
    out = model.val_step(_data())
    assert [o.pred_instances.embeddings.shape for o in out] == [(2, 8), (3, 8)]
    assert [o.pred_instances.features.shape for o in out] == [(2, 64), (3, 64)]
    norms = torch.cat([o.pred_instances.embeddings for o in out]).norm(dim=1)
    torch.testing.assert_close(norms, torch.ones(5))


def test_key_encoder_follows_ema_and_queue_fills_in_order():
    torch.manual_seed(0)
    model = _embedder(key_encoder=dict(queue_size=7))
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    # The hook a config adds, driven by a stand-in for the runner.
    hook = TeacherEMAHook(momentum=0.9, momentum_schedule='constant')
    runner = SimpleNamespace(model=model, iter=0, max_iters=10, hooks=[],
                             message_hub=MessageHub.get_instance('crop_embedder_test'),
                             logger=MMLogger.get_current_instance())
    hook.before_train(runner)  # copies the online encoder into the key encoder
    for name, key in model.key_backbone.named_parameters():
        assert torch.equal(key, dict(model.backbone.named_parameters())[name])
    model.train_step(_data(0), wrapper)
    hook.after_train_iter(runner, batch_idx=0)
    key_after_1 = {n: p.clone() for n, p in model.key_backbone.named_parameters()}
    assert int(model.queue.filled.sum()) == 5 and int(model.queue.ptr) == 5
    assert model.queue.labels[:5].tolist() == [0, 1, 2, 0, 1]
    model.train_step(_data(1), wrapper)
    # after the optimizer step (MoCo updates before the next step's keys: the same weights)
    online = {n: p.detach().clone() for n, p in model.backbone.named_parameters()}
    runner.iter = 1
    hook.after_train_iter(runner, batch_idx=1)
    for name, key in model.key_backbone.named_parameters():
        expected = 0.9 * key_after_1[name] + 0.1 * online[name]
        torch.testing.assert_close(key, expected)
    # 10 keys through a queue of 7: slots 5, 6 then 0, 1, 2 were overwritten
    assert model.queue.labels.tolist() == [2, 0, 1, 0, 1, 0, 1]
    assert int(model.queue.ptr) == 3
    torch.testing.assert_close(model.queue.features.norm(dim=1), torch.ones(7))
    # the key encoder carries no loss: the backbone and the projector only
    assert [n for n, _ in model.named_children() if n.startswith('key_')] == [
        'key_backbone', 'key_projector']


def test_classifier_baseline_trains():
    torch.manual_seed(0)
    model = MODELS.build(dict(type='CropClassifier', **TINY, head=dict(
        type='CropClassifierHead', in_channels=64, num_classes=3)))
    model.init_weights()
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    losses = model.train_step(_data(), wrapper)
    assert {'loss_cls', 'acc_cls'} <= set(losses)
    # cross-entropy at init is near log(3) (the classifier starts close to uniform)
    assert abs(float(losses['loss_cls']) - np.log(3)) < 1.0
    model.eval()
    emb = model.val_step(_data())[1].pred_instances.embeddings
    assert emb.shape == (3, 3)


def test_bad_model_configs_fail_at_build():
    # the decay moved to the hook: an old config fails, naming it
    with pytest.raises(ValueError, match='decay was removed.*TeacherEMAHook'):
        _embedder(key_encoder=dict(decay=0.99, queue_size=8))
    with pytest.raises(ValueError, match='unknown keys'):
        _embedder(key_encoder=dict(momentum=0.9))
    with pytest.raises(ValueError, match='queue_size'):
        _embedder(key_encoder=dict(queue_size=0))
    with pytest.raises(ValueError, match='deep_stem'):
        MODELS.build(dict(type='CifarResNet', depth=18, deep_stem=True))


@pytest.mark.parametrize('path', sorted(glob.glob(osp.join(REPO, 'configs', 'ranked_contrastive',
                                                           '*.py'))))
def test_shipped_configs_build(path, tmp_path):
    from tools.dataprep.shapes import similarity_table
    cfg = Config.fromfile(path)
    assert cfg.model.backbone.init_cfg is None and cfg.default_scope == 'mmdet'
    # The shapes losses read ranks and super-categories from the data's class_similarity.json,
    # which the data generator writes; build them on the generator's table.
    for key in ('class_ranks', 'superclasses'):
        if isinstance(cfg.model.head.get('loss', {}).get(key), str):
            assert cfg.model.head.loss[key] == 'data/shapes/class_similarity.json'
            with open(tmp_path / 'class_similarity.json', 'w') as f:
                json.dump(similarity_table(), f)
            cfg.model.head.loss[key] = str(tmp_path / 'class_similarity.json')
    # ResNet-50 models take seconds each to build: build their heads (and losses) only
    model = MODELS.build(cfg.model) if 'cpu' in path else argparse.Namespace(
        head=MODELS.build(cfg.model.head))
    classes = cfg.train_dataloader.dataset.dataset.metainfo.classes
    assert set(cfg.train_dataloader.dataset.withheld_classes) < set(classes)
    loss = getattr(model.head, 'loss_module', None)
    if hasattr(loss, 'classes'):
        assert tuple(loss.classes) == tuple(classes)
    if hasattr(loss, 'rank_matrix'):
        # has_rank ignores the withheld classes: no trained class ranks one of them
        withheld = [classes.index(c) for c in cfg.train_dataloader.dataset.withheld_classes]
        assert not (loss.rank_matrix[:, withheld] > 0).any()


class _Quadratic(BaseModel):
    """One parameter, a constant loss gradient: enough for the runner to step its schedulers."""

    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(1))

    def forward(self, inputs, data_samples=None, mode='tensor'):
        return dict(loss=(self.weight * inputs.sum()).sum())


class _LrRecorder(Hook):

    def __init__(self):
        self.lrs = []

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.lrs.append(runner.optim_wrapper.get_lr()['lr'][0])

    def after_train(self, runner):
        self.lrs.append(runner.optim_wrapper.get_lr()['lr'][0])


@pytest.mark.parametrize('max_iters', [12, 60])
def test_cpu_schedule_ends_at_the_run_length(tmp_path, max_iters):
    schedule = Config.fromfile(osp.join(
        REPO, 'configs/_base_/schedules/ranked-contrastive_sgd-cos-cpu.py'))
    recorder = _LrRecorder()
    runner = Runner(
        model=_Quadratic(), work_dir=str(tmp_path),
        train_dataloader=dict(dataset=[dict(inputs=torch.ones(1))] * 4, batch_size=1,
                              collate_fn=dict(type='default_collate'),
                              sampler=dict(type='InfiniteSampler', shuffle=False)),
        optim_wrapper=schedule.optim_wrapper, param_scheduler=schedule.param_scheduler,
        train_cfg=dict(by_epoch=False, max_iters=max_iters, val_interval=max_iters),
        default_hooks=dict(checkpoint=None, logger=None), custom_hooks=[recorder],
        log_processor=dict(by_epoch=False),
        default_scope='mmengine')
    runner.train()
    lrs = np.array(recorder.lrs[:-1])  # the rate of every iteration
    eta_min, peak = 1e-4, schedule.optim_wrapper.optimizer.lr
    assert len(lrs) == max_iters
    assert lrs[0] == pytest.approx(0.1 * peak)  # warm-up start
    # mmengine's cosine over [0, max_iters) is at step max_iters - 1 in the last iteration:
    # (1 + cos(pi (T - 1) / T)) / 2 < 2 % of the way from eta_min to the peak. A 200-iteration
    # cosine stopped at 60 would still be above 80 % of its peak.
    assert eta_min <= lrs[-1] < eta_min + 0.02 * peak
    after_peak = lrs[int(np.argmax(lrs)):]
    assert (np.diff(after_peak) <= 1e-12).all()  # one rise, then a monotone decay
    if max_iters > 40:  # past the warm-up the rate is the cosine of the run's length
        t = 2 * max_iters // 3
        closed_form = eta_min + (peak - eta_min) * (1 + np.cos(np.pi * t / max_iters)) / 2
        assert lrs[t] == pytest.approx(closed_form, rel=0.1)
