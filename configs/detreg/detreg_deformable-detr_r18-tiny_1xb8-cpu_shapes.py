# DETReg-style pretraining at CPU size on the unlabeled shapes pool: the same data,
# boxes and schedule as ProSeCo, one view.
_base_ = [
    '../_base_/models/detreg_deformable-detr_r18-tiny.py',
    '../_base_/datasets/shapes_unlabeled.py', '../_base_/schedules/cpu_pretrain_iters.py'
]
model = dict(bbox_head=dict(target_channels=64))  # C3 of the half-width ResNet-18
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='SampleProposals', num_proposals={{_base_.num_proposals}}),
    dict(type='RandomFlip', prob=0.5),
    dict(type='Resize', scale=({{_base_.image_size}}, {{_base_.image_size}}), keep_ratio=True),
    dict(type='PackDetInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
# For the pipeline (mmproseco/pipeline/stages.py): the whole model is the detector, and
# freezing its backbone freezes all four ResNet stages, as DETReg does.
pretrain_export = dict(
    source='', backbone='model.backbone', freeze={'model.backbone.frozen_stages': 4})
