# Real domain shift: DeepForest YELL (Yellowstone conifers; source, detector domain) → OSBS/SOAP
# (Florida and California; target). The translator sees target-site tiles, the discriminator
# YELL tiles; the frozen detector, trained on YELL only, is scored on the target-site test tiles:
#   python tools/split_coco_by_site.py --ann data/deepforest/annotations/test.json \
#       --sites OSBS SOAP --out work/site/deepforest/test_osbs-soap.json
# (and the same for val.json → val_osbs-soap.json, and train.json --sites YELL → train_yell.json
# for the source detector, configs/i2i/faster-rcnn_r18-tiny_fpn_1xb4-cpu_deepforest-yell.py).
_base_ = './attention-i2i_tiny_1xb4-cpu_deepforest-fog.py'
source_root = 'data/deepforest/'
model = dict(detector_checkpoint='work/i2i/deepforest-site/source/final.pth')
train_dataloader = dict(
    dataset=dict(
        source=dict(ann_file=source_root + 'annotations/train.json',
                    img_dir=source_root + 'images/', sites=['YELL']),
        # target-site tiles; their boxes are never read by the translator
        target=dict(ann_file=source_root + 'annotations/train.json',
                    img_dir=source_root + 'images/', sites=['OSBS', 'SOAP'])))
val_dataloader = dict(
    dataset=dict(data_root=source_root, ann_file='../../work/site/deepforest/val_osbs-soap.json'))
test_dataloader = dict(
    dataset=dict(data_root=source_root, ann_file='../../work/site/deepforest/test_osbs-soap.json'))
val_evaluator = dict(ann_file='work/site/deepforest/val_osbs-soap.json')
test_evaluator = dict(ann_file='work/site/deepforest/test_osbs-soap.json')
