# SCE over proposals: ProSeCo whose only positive is the matched teacher proposal (the
# poster's "SCE, delta = 1" row, 26.1 mAP against LocSCE's 27.8). pos_iou_thr=1.0 would
# still count teacher proposals with identical boxes as extra positives.
_base_ = './proseco_deformable-detr_r18-tiny_1xb8-cpu_shapes.py'
model = dict(detector=dict(bbox_head=dict(loss_contrast=dict(positive_set='matched'))))
