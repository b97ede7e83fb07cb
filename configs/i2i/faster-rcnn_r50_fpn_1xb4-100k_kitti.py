# Source detector for KITTI → Cityscapes ('car', 'person'): trained on KITTI, evaluated on Cityscapes val
# (dataset layout in configs/_base_/datasets/kitti_detection-car-person.py).
_base_ = [
    '../_base_/models/faster-rcnn_r50_fpn.py', '../_base_/datasets/kitti_detection-car-person.py',
    '../_base_/default_runtime.py'
]
model = dict(roi_head=dict(bbox_head=dict(num_classes=2)))
max_iters = 100000
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='SGD', lr=0.001, momentum=0.9, weight_decay=5e-4))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=10000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=max_iters, milestones=[50000, 70000],
         gamma=0.1)
]
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=10000))
log_processor = dict(by_epoch=False)
