# CPU-size schedule: the optimizer of detr_50e.py counted in iterations, so a run lasts
# minutes on 2 cores. No LR drop: DETReg's advice for small labeled sets, and the runs are
# short. It includes the runtime, whose hooks and logging it tunes (two bases may not set
# the same key). Experiments set train_cfg.max_iters; validation and checkpoints coincide.
_base_ = ['./detr_50e.py', '../default_runtime.py']
max_iters = 600
val_interval = 200
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=val_interval)
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False, begin=0, end=max_iters)]
# Speed on CPU (docs/benchmarks.md): fused AdamW and a foreach gradient clip (optim_wrapper
# below) update every tensor in one kernel instead of one chain per parameter
# (`--cfg-options optim_wrapper.optimizer.fused=False optim_wrapper.clip_grad.foreach=False`
# undoes them). Channels-last convolutions did not pay here; `--cfg-options
# default_hooks.memory_format.type=MemoryFormatHook` turns them on.
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(by_epoch=False, interval=val_interval))
log_processor = dict(by_epoch=False)
auto_scale_lr = dict(base_batch_size=8)
# The backbone starts from random weights here, so it learns at the full LR (the 0.1
# multiplier of detr_50e.py assumes an ImageNet-pretrained one).
optim_wrapper = dict(
    optimizer=dict(fused=True), clip_grad=dict(foreach=True),
    paramwise_cfg=dict(custom_keys=dict(backbone=dict(lr_mult=1.0))))
