# CPU-size schedule: the same optimizer as detr_50e.py, counted in iterations so a run
# lasts minutes on 2 cores. No LR drop: DETReg's advice for small labeled sets, and the
# runs are short. Experiments set max_iters; validation and checkpoints come together.
_base_ = './detr_50e.py'
max_iters = 600
val_interval = 200
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=val_interval)
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False, begin=0, end=max_iters)]
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(by_epoch=False, interval=val_interval))
log_processor = dict(by_epoch=False)
auto_scale_lr = dict(base_batch_size=8)
