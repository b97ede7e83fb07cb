# CPU-size pretraining schedule: cpu_iters.py without validation (there are no labels),
# a checkpoint every 200 iterations and only the last one kept.
_base_ = './cpu_iters.py'
train_cfg = dict(max_iters=600, val_interval=10**9)
val_dataloader = val_cfg = val_evaluator = None
test_dataloader = test_cfg = test_evaluator = None
default_hooks = dict(
    checkpoint=dict(interval=200, save_best=None, max_keep_ckpts=1),
    visualization=dict(draw=False))
