# The I2I paper's source-detector schedule (Supp. §6.4): SGD lr 1e-3, momentum 0.9, weight
# decay 5e-4, 100k iterations, ×0.1 at 50k and 70k. It includes the runtime, whose hooks and
# logging it tunes (two bases may not set the same key).
_base_ = '../default_runtime.py'
max_iters = 100000
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='SGD', lr=0.001, momentum=0.9, weight_decay=5e-4))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=10000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=max_iters, milestones=[50000, 70000],
         gamma=0.1)
]
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=10000))
log_processor = dict(by_epoch=False)
