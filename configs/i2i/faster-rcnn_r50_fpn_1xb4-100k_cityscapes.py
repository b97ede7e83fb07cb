# Source detector for Foggy Cityscapes → Cityscapes at the paper's schedule (Supp. §6.4): SGD lr
# 1e-3, batch 4, weight decay 5e-4, 100k iterations, ×0.1 at 50k and 70k, short side 600. The paper
# uses R-50-C4 (Detectron2); this is mmdet's R-50-FPN, one of its Supp. Tab. S2 variants. Give
# ImageNet weights with model.backbone.init_cfg=dict(_delete_=True, type='Pretrained',
# checkpoint=PATH).
_base_ = [
    '../_base_/models/faster-rcnn_r50_fpn.py', '../_base_/datasets/cityscapes_detection-8cls.py',
    '../_base_/default_runtime.py'
]
model = dict(roi_head=dict(bbox_head=dict(num_classes=8)))
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
