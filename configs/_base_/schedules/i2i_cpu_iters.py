# CPU-size schedule of the I2I adapters (every scenario): CUT's Adam at a rate a few-minute
# run can use, one generator and one discriminator optimiser, counted in iterations. It
# includes the runtime, whose hooks and logging it tunes (two bases may not set the same key).
_base_ = ['../default_runtime.py']
max_iters = 300
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
