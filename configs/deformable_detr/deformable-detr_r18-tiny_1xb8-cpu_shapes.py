# Supervised Deformable DETR at CPU size on the generated shapes set: trains in minutes
# on 2 cores. `mim train mmproseco configs/deformable_detr/<this file>`.
_base_ = [
    '../_base_/models/deformable-detr_r18-tiny.py', '../_base_/datasets/shapes_detection.py',
    '../_base_/schedules/cpu_iters.py'
]
model = dict(bbox_head=dict(num_classes=8))
train_cfg = dict(max_iters=1200, val_interval=400)
default_hooks = dict(checkpoint=dict(interval=400, save_best='coco/bbox_mAP', rule='greater'))
