# Paper size: attention-guided I2I with the local-global loss, Foggy Cityscapes → Cityscapes, in
# front of the frozen Cityscapes detector. Adam(0.5, 0.99) lr 1e-5 for 400 epochs (Supp. §6.4),
# constant for 200 then linear to 0 (CUT's schedule; the paper gives none). Batch 1 (CUT).
# Test at full resolution on Foggy Cityscapes val (500 images).
_base_ = [
    '../_base_/models/attention-i2i_resnet9.py',
    '../_base_/datasets/foggy-cityscapes_detection-8cls.py',
    '../_base_/datasets/cityscapes-unpaired_i2i.py', '../_base_/default_runtime.py'
]
detector_config = '{{ fileDirname }}/faster-rcnn_r50_fpn_1xb4-100k_cityscapes.py'
detector_checkpoint = 'work/i2i/cityscapes/source/iter_100000.pth'
model = dict(
    _delete_=True,
    type='AdaptedDetector',
    detector=detector_config,
    detector_checkpoint=detector_checkpoint,
    adapter=_base_.model,
    translate=True,
    # raw pixels: translated inside img_shape, padded afterwards by the detector's preprocessor
    data_preprocessor=dict(type='DetDataPreprocessor', bgr_to_rgb=False))
train_dataloader = dict(
    _delete_=True,
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='UnpairedDomainDataset',
        source=_base_.cityscapes_train,
        target=_base_.foggy_cityscapes_train,
        pipeline=_base_.unpaired_pipeline,
        seed=0))
# test at full resolution (2048×1024)
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

lr = 1e-5
optim_wrapper = dict(
    _delete_=True,
    constructor='I2IOptimWrapperConstructor',
    generator=dict(optimizer=dict(type='Adam', lr=lr, betas=(0.5, 0.99))),
    discriminator=dict(optimizer=dict(type='Adam', lr=lr, betas=(0.5, 0.99))))
linear_decay = dict(type='LinearLR', start_factor=1.0, end_factor=0.0, by_epoch=True, begin=200,
                    end=400)
param_scheduler = dict(generator=linear_decay, discriminator=linear_decay)
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=400, val_interval=50)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(checkpoint=dict(interval=50))
