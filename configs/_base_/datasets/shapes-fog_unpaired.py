# Clear → foggy shapes, the generated I2I scenario. The detector's (source) domain is the clear
# images of data/shapes; the target domain is the same set fogged with a depth ramp in a random
# direction per image (the `fog@shapes-fog` stage of dvc.yaml, docs/i2i.md "Data"):
#   python tools/make_fog.py --src data/shapes --out work/fog/shapes --beta 0.01 --depth ramp \
#       --depth-range 20 120 --seed 0
# The translator trains on unpaired crops: clear train images (source, seen by the
# discriminator) and foggy *unlabeled* images (target, seen by the generator; the train
# images without boxes), so no target labels are used. Val/test score the frozen detector on
# the foggy val/test images with their boxes.
_base_ = './shapes_detection.py'
source_root = 'data/shapes/'
target_root = 'work/fog/shapes/'
crop_size = (96, 96)

unpaired_pipeline = [
    dict(type='LoadImageChecked', backend_args=_base_.backend_args),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']),
    dict(type='PackDetInputs', meta_keys=('img_path', 'ori_shape', 'img_shape')),
]
train_dataloader = dict(
    _delete_=True,
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='UnpairedDomainDataset',
        source=dict(ann_file=source_root + _base_.train_ann_file,
                    img_dir=source_root + 'images/'),
        target=dict(ann_file=target_root + _base_.unlabeled_ann_file,
                    img_dir=target_root + 'images/'),
        pipeline=unpaired_pipeline,
        seed=0))
# batched: the images are all 128 px, and the adapter translates each inside its img_shape
val_dataloader = dict(batch_size=8, num_workers=0, dataset=dict(data_root=target_root))
test_dataloader = dict(batch_size=8, num_workers=0, dataset=dict(data_root=target_root))
# classwise: per-class AP for the report rows
val_evaluator = dict(ann_file=target_root + _base_.val_ann_file, classwise=True)
test_evaluator = dict(ann_file=target_root + _base_.test_ann_file, classwise=True)
