# COCO 2017 in its standard layout: data/coco/{train2017,val2017}/ and
# data/coco/annotations/instances_{train,val}2017.json. mmdet's own dataset config, read by
# the checked dataset class (clear errors on bad files). Mini-COCO splits:
#   python tools/make_splits.py data/coco/annotations/instances_train2017.json \
#       work/splits/coco --fractions 1 5 10 --seeds 0 1 2
_base_ = 'mmdet::_base_/datasets/coco_detection.py'
train_dataloader = dict(dataset=dict(type='CheckedCocoDataset'))
val_dataloader = dict(dataset=dict(type='CheckedCocoDataset'))
test_dataloader = dict(dataset=dict(type='CheckedCocoDataset'))
