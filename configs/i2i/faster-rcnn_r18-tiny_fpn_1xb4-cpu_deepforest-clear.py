# Source detector of the I2I study: CPU-size Faster R-CNN trained on the clear DeepForest tiles.
# It is frozen afterwards and evaluated on foggy tiles, raw ("Source") or translated.
_base_ = [
    '../_base_/models/faster-rcnn_r18-tiny_fpn.py', '../_base_/datasets/deepforest_detection.py',
    '../_base_/schedules/sgd_cpu_iters.py'
]
model = dict(roi_head=dict(bbox_head=dict(num_classes=1)))
train_dataloader = dict(num_workers=0)
val_dataloader = dict(num_workers=0)
test_dataloader = dict(num_workers=0)
val_evaluator = dict(classwise=True)
test_evaluator = dict(classwise=True)
randomness = dict(seed=0)
