# Runtime shared by every mmproseco experiment: mmdet's defaults plus the package import.
default_scope = 'mmdet'
custom_imports = dict(imports=['mmproseco'], allow_failed_imports=False)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2, save_best='auto'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # torch.load(..., weights_only=True) reads the checkpoints (no pickled mmengine objects)
    weights_only_checkpoint=dict(type='WeightsOnlyCheckpointHook'),
    # Paints predictions on every `interval`-th validation image at each validation, i.e.
    # at each checkpoint; the PNGs land in <work_dir>/<timestamp>/vis_data/vis_image/.
    visualization=dict(type='DetVisualizationHook', draw=True, interval=50, score_thr=0.3),
    # Stops at the first non-finite loss, gradient norm or weight, before it is checkpointed;
    # `--cfg-options default_hooks.divergence_guard.action=warn` only warns.
    divergence_guard=dict(type='DivergenceGuardHook', action='stop'))

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))

vis_backends = [dict(type='LocalVisBackend')]
# No fixed `name`: the runner then names the visualizer after its run, so that several runners
# in one process (mmproseco.pipeline, tools/study_backbone_init.py) each log to their own
# work_dir instead of all reusing the first one's.
visualizer = dict(type='DetLocalVisualizer', vis_backends=vis_backends)
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=True)

log_level = 'INFO'
load_from = None
resume = False
