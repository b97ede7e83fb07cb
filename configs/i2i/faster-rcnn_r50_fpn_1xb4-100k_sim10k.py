# Source detector for Sim10k → Cityscapes ('car'): trained on Sim10k, evaluated on Cityscapes
# val (dataset layout in configs/_base_/datasets/sim10k_detection-car.py).
_base_ = [
    '../_base_/models/faster-rcnn_r50_fpn.py', '../_base_/datasets/sim10k_detection-car.py',
    '../_base_/schedules/sgd_lr1e-3_100k.py'
]
model = dict(roi_head=dict(bbox_head=dict(num_classes=1)))
