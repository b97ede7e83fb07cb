# SCE over proposals: ProSeCo with delta = 1, so only the matched teacher proposal is
# positive (the poster's "SCE" row, 26.1 mAP against LocSCE's 27.8).
_base_ = './proseco_deformable-detr_r18-tiny_1xb8-cpu_shapes.py'
model = dict(detector=dict(bbox_head=dict(loss_contrast=dict(pos_iou_thr=1.0))))
