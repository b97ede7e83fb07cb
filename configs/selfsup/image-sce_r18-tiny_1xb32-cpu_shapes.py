# Image-level SCE pretraining of the CPU-size backbone on the unlabeled shapes pool: the
# stand-in for the ImageNet backbone that ProSeCo freezes (none can be downloaded here).
# Load the result into ProSeCo with
#   model.detector.backbone.init_cfg=dict(_delete_=True, type='Pretrained',
#       prefix='student.backbone.', checkpoint='work_dirs/image-sce/iter_600.pth')
# (docs/proseco.md has the command line; tools/study_backbone_init.py compares the starts).
_base_ = [
    '../_base_/schedules/cpu_pretrain_iters.py', '../_base_/datasets/sce_photometric.py'
]
image_size = 96
backbone = dict(
    type='ResNet', depth=18, base_channels=32, num_stages=4, out_indices=(1, 2, 3),
    norm_cfg=dict(type='BN', requires_grad=True), norm_eval=False, style='pytorch',
    init_cfg=None)
model = dict(
    type='ImageSCE',
    backbone=backbone,
    feat_channels=256,  # last stage of the half-width ResNet-18
    proj_channels=128,
    loss=dict(type='SCELoss', coeff=0.5, temperature=0.1, teacher_temperature=0.07),
    data_preprocessor=dict(
        type='MultiBranchDataPreprocessor',
        data_preprocessor=dict(type='DetDataPreprocessor', mean=[123.675, 116.28, 103.53],
                               std=[58.395, 57.12, 57.375], bgr_to_rgb=True)))

# Two crops with their own geometry (image-level SCE), then SCE's asymmetric photometry.
crop = [
    dict(type='RandomCrop', crop_type='relative_range', crop_size=(0.4, 0.4),
         allow_negative_crop=True),
    dict(type='Resize', scale=(image_size, image_size), keep_ratio=False),
    dict(type='RandomFlip', prob=0.5),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),  # no 2-s pause at each epoch's end
    dataset=dict(
        type='CheckedCocoDataset',
        data_root='data/shapes/',
        ann_file='annotations/unlabeled.json',
        data_prefix=dict(img='images/'),
        metainfo=dict(classes=()),
        pipeline=[
            dict(type='LoadImageChecked'),
            dict(type='MultiBranch', branch_field=['teacher', 'student'],
                 teacher=[*crop, dict(type='PackDetInputs')],
                 student=[*crop, *_base_.student_photometric, dict(type='PackDetInputs')]),
        ]))
optim_wrapper = dict(paramwise_cfg=None)
# SCE's ImageNet recipe ramps m from 0.99 to 1 (cosine); at CPU length m0 follows the run,
# 1 - m0 = 10 / max_iters (TeacherEMAHook's 'auto').
custom_hooks = [dict(type='TeacherEMAHook', momentum='auto', momentum_schedule='cosine')]
# What the pipeline's `backbone` stage keeps of this model: the student's backbone, which
# the other methods then start from (mmproseco/pipeline/stages.py).
pretrain_export = dict(source='student.backbone')
