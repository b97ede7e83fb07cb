# CPU-size schedule: a few hundred iterations (minutes on 2 cores), SGD with a short linear
# warm-up (from scratch, small batches) and a cosine decay; evaluation only at the end.
# The cosine has no `end`: the runner ends it at train_cfg.max_iters, so a shorter or longer
# run (`--cfg-options train_cfg.max_iters=N`, the pipeline's `ranked_iters`) still decays to
# eta_min at its last iteration. It starts at 0 under the warm-up (mmengine chains the two),
# so any run length, even one shorter than the warm-up, builds.
_base_ = '../default_runtime.py'
max_iters = 200
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=20),
    dict(type='CosineAnnealingLR', eta_min=1e-4, by_epoch=False, begin=0),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(by_epoch=False, interval=max_iters, max_keep_ckpts=1, save_best=None))
log_processor = dict(by_epoch=False)
auto_scale_lr = dict(enable=False, base_batch_size=32)
