# The original schedule: SGD lr 0.5, momentum 0.9, weight decay 1e-4, cosine to lr * 1e-3
# over the epochs actually run (the original's horizon was its 1000-epoch default). The cosine
# has no `end`: the runner ends it at train_cfg.max_epochs, whatever that is set to.
_base_ = '../default_runtime.py'
max_epochs = 500
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.5, momentum=0.9, weight_decay=1e-4))
param_scheduler = [
    dict(type='CosineAnnealingLR', eta_min=0.5e-3, by_epoch=True, begin=0,
         convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=25)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(checkpoint=dict(interval=25, max_keep_ckpts=2, save_best='auto'))
# lr 0.5 was set for 32 images per batch
auto_scale_lr = dict(enable=False, base_batch_size=32)
