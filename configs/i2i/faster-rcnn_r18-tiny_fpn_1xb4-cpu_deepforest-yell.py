# Source detector of the site-shift scenario: trained on YELL tiles only (train_yell.json from
# tools/split_coco_by_site.py), validated on the OSBS/SOAP val tiles.
_base_ = './faster-rcnn_r18-tiny_fpn_1xb4-cpu_deepforest-clear.py'
train_dataloader = dict(dataset=dict(ann_file='../../work/site/deepforest/train_yell.json'))
val_dataloader = dict(dataset=dict(ann_file='../../work/site/deepforest/val_osbs-soap.json'))
test_dataloader = dict(dataset=dict(ann_file='../../work/site/deepforest/test_osbs-soap.json'))
val_evaluator = dict(ann_file='work/site/deepforest/val_osbs-soap.json')
test_evaluator = dict(ann_file='work/site/deepforest/test_osbs-soap.json')
