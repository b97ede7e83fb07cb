# SCE over proposals (delta = 1) at the paper's size on COCO: the poster's SCE row.
_base_ = './proseco_deformable-detr_r50_8xb4-50e_coco.py'
model = dict(detector=dict(bbox_head=dict(loss_contrast=dict(pos_iou_thr=1.0))))
