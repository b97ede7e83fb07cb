# Object crops of the generated shapes set (data/shapes, `python tools/prepare_data.py`): 8
# classes with a designed similarity. The losses read the ranks (rank 1 = one subtle cue
# differs, ranks 2/3 only for the warm solids) and the super-categories from the data's
# class_similarity.json (shapes_metainfo.py). Ground-truth boxes by default; see
# configs/ranked_contrastive/*-detboxes* for crops of detections.
_base_ = './shapes_metainfo.py'
dataset_type = 'CheckedCocoDataset'
data_root = 'data/shapes/'
classes = _base_.metainfo['classes']
metainfo = dict(classes=classes)
# Held out of training and prototypes; their test crops are the OOD set. orange_square has a
# rank-1 neighbour (red_square) left in training, cyan_triangle leaves blue_triangle without
# any similar class, so both "near" OOD and a class with fewer ranks are exercised.
withheld_classes = ('orange_square', 'cyan_triangle')
# The two views of a crop must stay of its class, and here colour is a class cue: red and
# orange solids differ only in hue (tools/dataprep/shapes.py: red 0 deg, orange 28 deg, each
# object +-6 deg, the smallest gap between class hues). Rule: every object colour of the data,
# jittered, stays nearer its own class hue than any other, i.e. object spread + hue shift +
# the hue drift of brightness/contrast/saturation (RGB clamping turns hue: at 0.4, blue turns
# cyan) < half the smallest gap = 14 deg. At 0.1 the clamping drifts hue by at most 3.8 deg,
# the shift is 0.01 turn = 3.6 deg: 6 + 3.8 + 3.6 < 14. No view turns gray, which erases hue.
# (docs/ranked_contrastive.md, "Views"; tests/test_ranked_contrastive_crops.py checks it.)
crop_augment = dict(
    jitter=dict(brightness=0.1, contrast=0.1, saturation=0.1, hue=0.01), grayscale_prob=0.0)

crop_pipeline = [
    dict(type='LoadImageChecked'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape')),
]
train_source = dict(type=dataset_type, data_root=data_root, metainfo=metainfo,
                    ann_file='annotations/train.json', data_prefix=dict(img='images/'))
val_source = dict(train_source, ann_file='annotations/val.json')
test_source = dict(train_source, ann_file='annotations/test.json')

train_dataloader = dict(
    batch_size=32,  # images; each has 1-5 objects, so ~90 crops per batch
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='ObjectCropDataset', role='train', dataset=train_source,
                 withheld_classes=withheld_classes, pipeline=crop_pipeline))
# Evaluation embeds the training crops (prototypes) and the query crops in one pass.
val_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='ConcatDataset',
        datasets=[
            dict(type='ObjectCropDataset', role='prototype', dataset=train_source,
                 withheld_classes=withheld_classes, pipeline=crop_pipeline),
            dict(type='ObjectCropDataset', role='query', dataset=val_source,
                 withheld_classes=withheld_classes, pipeline=crop_pipeline),
        ]))
test_dataloader = dict(
    val_dataloader,
    dataset=dict(
        type='ConcatDataset',
        datasets=[
            dict(type='ObjectCropDataset', role='prototype', dataset=train_source,
                 withheld_classes=withheld_classes, pipeline=crop_pipeline),
            dict(type='ObjectCropDataset', role='query', dataset=test_source,
                 withheld_classes=withheld_classes, pipeline=crop_pipeline),
        ]))
val_evaluator = [
    dict(type='PrototypeAccuracy'),
    dict(type='OODAUROC', withheld_classes=withheld_classes),
]
test_evaluator = [
    dict(type='PrototypeAccuracy', tsne=True),
    dict(type='OODAUROC', withheld_classes=withheld_classes, sweep_auc=True),
]
