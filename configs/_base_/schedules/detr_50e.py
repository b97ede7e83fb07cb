# Deformable DETR's schedule (and DETReg's fine-tuning recipe): AdamW 2e-4, weight decay
# 1e-4, gradient clip 0.1, 50 epochs with the LR divided by 10 after epoch 40; the
# backbone, reference points and sampling offsets learn at a tenth of the LR.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-4, weight_decay=1e-4),
    clip_grad=dict(max_norm=0.1, norm_type=2),
    paramwise_cfg=dict(custom_keys={
        'backbone': dict(lr_mult=0.1),
        'sampling_offsets': dict(lr_mult=0.1),
        'reference_points': dict(lr_mult=0.1)
    }))
max_epochs = 50
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[40], gamma=0.1)
]
# 16 GPUs x 2 images, as in Deformable DETR; --auto-scale-lr rescales the LR to your batch.
auto_scale_lr = dict(base_batch_size=32)
