# PASCAL VOC 07+12 in its standard layout (data/VOCdevkit/VOC{2007,2012}/...), converted
# once to COCO json with mmdet's converter, so the same splits and metric as COCO apply:
#   python .venv/lib/python3.11/site-packages/mmdet/.mim/tools/dataset_converters/pascal_voc.py \
#       data/VOCdevkit -o data/VOCdevkit/annotations --out-format coco
#   python tools/make_splits.py data/VOCdevkit/annotations/voc0712_trainval.json \
#       work/splits/voc --fractions 5 10 --seeds 0 1 2          # Mini-VOC
_base_ = './coco_detection.py'
data_root = 'data/VOCdevkit/'
metainfo = dict(
    classes=('aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair',
             'cow', 'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant',
             'sheep', 'sofa', 'train', 'tvmonitor'))
train_dataloader = dict(
    dataset=dict(data_root=data_root, metainfo=metainfo,
                 ann_file='annotations/voc0712_trainval.json', data_prefix=dict(img='')))
val_dataloader = dict(
    dataset=dict(data_root=data_root, metainfo=metainfo,
                 ann_file='annotations/voc07_test.json', data_prefix=dict(img='')))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/voc07_test.json')
test_evaluator = val_evaluator
