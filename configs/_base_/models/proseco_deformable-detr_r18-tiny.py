# ProSeCo around the CPU-size Deformable DETR (deformable-detr_tiny.py). Without an
# ImageNet backbone the backbone trains jointly (docs/proseco.md explains the measurement).
_base_ = ['./proseco_deformable-detr_r50.py', './deformable-detr_tiny.py']
model = dict(
    freeze_backbone=False,
    detector={{_base_.deformable_detr_tiny}})
# A run of a few hundred steps cannot use SCE's 0.999, which would keep 82 % of the initial
# teacher after 200 steps: m0 follows the run length, 1 - m0 = 10 / max_iters, ramped to 1
# by a cosine (BYOL), so the teacher forgets its start and its boxes become the student's.
custom_hooks = [dict(type='TeacherEMAHook', momentum='auto', momentum_schedule='cosine')]
