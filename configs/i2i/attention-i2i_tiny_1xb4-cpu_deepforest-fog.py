# Attention-guided I2I with the local-global loss at CPU size: foggy DeepForest → clear, in front
# of the frozen clear-trained detector. Training runs the adapter's own train_step; validation and
# test score the frozen detector on translated foggy tiles (CocoMetric), so this one config trains,
# monitors and evaluates. `model.translate=False` gives the "Source" row with the same code.
_base_ = [
    '../_base_/models/attention-i2i_tiny.py', '../_base_/datasets/deepforest-fog_unpaired.py',
    '../_base_/default_runtime.py'
]
detector_config = 'configs/i2i/faster-rcnn_r18-tiny_fpn_1xb4-cpu_deepforest-clear.py'
detector_checkpoint = 'work/baselines/faster-rcnn/final.pth'  # the baseline stage's output
adapter = _base_.model
model = dict(
    _delete_=True,
    type='AdaptedDetector',
    detector=detector_config,
    detector_checkpoint=detector_checkpoint,
    adapter=adapter,
    translate=True,
    data_preprocessor=dict(type='DetDataPreprocessor', bgr_to_rgb=False, pad_size_divisor=32))

max_iters = 300
# endless: mmengine's iteration loop sleeps 2 s whenever a finite loader runs out
train_dataloader = dict(sampler=dict(type='InfiniteSampler', shuffle=True))
lr = 2e-4  # CUT's rate; the paper's 1e-5 is too slow for a few-minute CPU run
optim_wrapper = dict(
    constructor='I2IOptimWrapperConstructor',
    generator=dict(optimizer=dict(type='Adam', lr=lr, betas=(0.5, 0.99))),
    discriminator=dict(optimizer=dict(type='Adam', lr=lr, betas=(0.5, 0.99))))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(by_epoch=False, interval=max_iters),
    visualization=dict(draw=False))
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)
