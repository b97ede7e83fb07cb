# Fine-tuning of a pretrained CPU-size Deformable DETR on a labeled fraction of shapes.
# DETReg's recipe scaled down, validation on val every val_interval iterations, the best
# val checkpoint kept for the test set. The LR drops 10x at 2/3 of the run, wherever the
# stage sets its end. DETReg drops at 80 % of its COCO schedule and not at all in its
# 400-epoch semi-supervised ones (a drop at epoch 40 had cut them short: its issue #39); a
# run here is 40 epochs of the 10 % split, still rising at a constant LR, and the drop
# realizes that rise within ~300 iterations (docs/pipeline.md, "The LR drop").
# The DVC stage sets, through --cfg-options:
#   load_from                             work/pretrain/<method>_seed<s>/detector.pth
#   train_dataloader.dataset.ann_file     work/splits/shapes/train@<pct>pct_seed<s>.json
#   train_cfg.max_iters / val_interval, randomness.seed
_base_ = '../deformable_detr/deformable-detr_r18-tiny_1xb8-cpu_shapes.py'
load_from = None
# An endless sampler: the 1 % split is 30 images, and mmengine's iteration loop sleeps 2 s
# each time a finite loader runs out (every 4 iterations here, half of each 1 s step).
# Loading in the main process: 8 images of 128 px take milliseconds, and on 2 cores worker
# processes only compete with the model.
train_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(data_root='', data_prefix=dict(img='data/shapes/images/')))
randomness = dict(seed=0)
# The share of each run after which the LR is 10x lower. The pipeline's fine-tuning stage
# also reads it: params.yaml's `validations: {before_drop, after_drop}` count from it.
lr_drop_at = 2 / 3
param_scheduler = [
    dict(type='RelativeMultiStepLR', milestone_ratios=[lr_drop_at], gamma=0.1, by_epoch=False)]
# For the pipeline (mmproseco/pipeline/stages.py): the random-initialization baseline
# saves the whole model, its backbone started from the `backbone` stage's weights.
pretrain_export = dict(source='', backbone='model.backbone')
# Every method, random init and the ceiling included, starts from a pretrained backbone
# (the seed's image-level SCE), so the backbone learns at 0.1x the LR: DETReg's recipe for
# a pretrained backbone (cpu_iters.py sets 1.0 for the random backbones of other runs).
# The base LR is twice DETReg's 2e-4: on the 10 % split (seed 0, batch 8) it reached
# 0.239 val mAP at 600 iterations, where 2e-4 needed about 1,200 (docs/pipeline.md,
# "Calibrating the schedules"), and fine-tuning is most of the study's CPU time.
optim_wrapper = dict(
    optimizer=dict(lr=4e-4),
    paramwise_cfg=dict(custom_keys=dict(backbone=dict(lr_mult=0.1))))
