# Source detector for Foggy Cityscapes → Cityscapes at the paper's schedule (Supp. §6.4): batch
# 4, short side 600, the schedule of sgd_lr1e-3_100k.py. The paper uses R-50-C4 (Detectron2);
# this is mmdet's R-50-FPN, one of its Supp. Tab. S2 variants. Give ImageNet weights with
# model.backbone.init_cfg=dict(_delete_=True, type='Pretrained', checkpoint=PATH).
_base_ = [
    '../_base_/models/faster-rcnn_r50_fpn.py', '../_base_/datasets/cityscapes_detection-8cls.py',
    '../_base_/schedules/sgd_lr1e-3_100k.py'
]
model = dict(roi_head=dict(bbox_head=dict(num_classes=8)))
