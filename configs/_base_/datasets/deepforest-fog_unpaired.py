# Clear → foggy DeepForest. The detector's (source) domain is the clear tiles of data/deepforest;
# the target domain is the same set fogged by
#   python tools/make_fog.py --src data/deepforest --out work/fog/deepforest --beta 0.02 --seed 0
# The translator trains on unpaired crops: clear train tiles (source, seen by the discriminator)
# and foggy *unlabeled* tiles (target, seen by the generator), so no target labels are used.
# Val/test score the frozen detector on the foggy val/test tiles with their boxes.
backend_args = None
metainfo = dict(classes=('tree', ), palette=[(34, 139, 34)])
source_root = 'data/deepforest/'
target_root = 'work/fog/deepforest/'
source_ann_file = 'annotations/train.json'
target_ann_file = 'annotations/unlabeled.json'
val_ann_file = 'annotations/val.json'
test_ann_file = 'annotations/test.json'
image_scale = (400, 400)
crop_size = (96, 96)

unpaired_pipeline = [
    dict(type='LoadImageChecked', backend_args=backend_args),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']),
    dict(type='PackDetInputs', meta_keys=('img_path', 'ori_shape', 'img_shape')),
]
test_pipeline = [
    dict(type='LoadImageChecked', backend_args=backend_args),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='UnpairedDomainDataset',
        source=dict(ann_file=source_root + source_ann_file, img_dir=source_root + 'images/'),
        target=dict(ann_file=target_root + target_ann_file, img_dir=target_root + 'images/'),
        pipeline=unpaired_pipeline,
        seed=0))

val_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='CheckedCocoDataset',
        data_root=target_root,
        metainfo=metainfo,
        ann_file=val_ann_file,
        data_prefix=dict(img='images/'),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='CheckedCocoDataset',
        data_root=target_root,
        metainfo=metainfo,
        ann_file=test_ann_file,
        data_prefix=dict(img='images/'),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
# classwise: per-class AP for the report rows
val_evaluator = dict(
    type='CocoMetric', ann_file=target_root + val_ann_file, metric='bbox', classwise=True,
    backend_args=backend_args)
test_evaluator = dict(
    type='CocoMetric', ann_file=target_root + test_ann_file, metric='bbox', classwise=True,
    backend_args=backend_args)
