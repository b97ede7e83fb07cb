# Faster R-CNN at CPU size on the generated shapes set.
_base_ = [
    '../_base_/models/faster-rcnn_r18-tiny_fpn.py', '../_base_/datasets/shapes_detection.py',
    '../_base_/schedules/sgd_cpu_iters.py'
]
model = dict(roi_head=dict(bbox_head=dict(num_classes=8)))
train_cfg = dict(max_iters=1200, val_interval=400)
default_hooks = dict(checkpoint=dict(interval=400, save_best='coco/bbox_mAP', rule='greater'))
