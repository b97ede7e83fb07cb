# Object crops of PASCAL VOC2007 (data/VOCdevkit/VOC2007, the standard layout), as in the
# original: ground-truth boxes of trainval for training and prototypes, of test for queries,
# `difficult` objects included, chair and motorbike withheld for OOD (18 classes train; the
# 20-class setting of the accuracy table is voc2007-20cls_crops.py).
dataset_type = 'VOCDataset'
data_root = 'data/VOCdevkit/'
classes = ('aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair',
           'cow', 'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep',
           'sofa', 'train', 'tvmonitor')
metainfo = dict(classes=classes)
withheld_classes = ('chair', 'motorbike')
# The original's custom ranking (losses.py); the code gave every listed class the same score,
# so they form a single rank 1. The relation is not symmetric.
class_ranks = {
    'bird': [['aeroplane']],
    'cat': [['dog', 'sheep']],
    'dog': [['cat']],
    'horse': [['dog', 'cat']],
    'aeroplane': [['bird', 'boat']],
    'bicycle': [['motorbike']],
    'boat': [['car', 'bus']],
    'bus': [['car', 'boat']],
    'car': [['bus']],
    'motorbike': [['bicycle', 'car']],
    'train': [['car']],
    'bottle': [['pottedplant']],
    'chair': [['sofa', 'diningtable']],
    'diningtable': [['chair', 'sofa']],
    'pottedplant': [['bottle']],
    'sofa': [['chair', 'diningtable']],
    'tvmonitor': [['bottle']],
}
# RINCE-style super-categories (the original's "RINCE r=5" runs).
superclasses = {
    'person': ['person'],
    'animal': ['bird', 'cat', 'cow', 'dog', 'horse', 'sheep'],
    'vehicle': ['aeroplane', 'bicycle', 'boat', 'bus', 'car', 'motorbike', 'train'],
    'indoor': ['bottle', 'chair', 'diningtable', 'pottedplant', 'sofa', 'tvmonitor'],
}

crop_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape')),
]
trainval_source = dict(type=dataset_type, data_root=data_root, metainfo=metainfo,
                       ann_file='VOC2007/ImageSets/Main/trainval.txt',
                       data_prefix=dict(sub_data_root='VOC2007/'))
test_source = dict(trainval_source, ann_file='VOC2007/ImageSets/Main/test.txt',
                   test_mode=True)

train_dataloader = dict(
    batch_size=32,  # images, ~2.4 objects each
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='ObjectCropDataset', role='train', dataset=trainval_source,
                 withheld_classes=withheld_classes, keep_ignored=True, pipeline=crop_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='ConcatDataset',
        datasets=[
            dict(type='ObjectCropDataset', role='prototype', dataset=trainval_source,
                 withheld_classes=withheld_classes, keep_ignored=True, pipeline=crop_pipeline),
            dict(type='ObjectCropDataset', role='query', dataset=test_source,
                 withheld_classes=withheld_classes, keep_ignored=True, pipeline=crop_pipeline),
        ]))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='PrototypeAccuracy'),
    dict(type='OODAUROC', withheld_classes=withheld_classes),
]
test_evaluator = [
    dict(type='PrototypeAccuracy', tsne=True),
    dict(type='OODAUROC', withheld_classes=withheld_classes, sweep_auc=True),
]
