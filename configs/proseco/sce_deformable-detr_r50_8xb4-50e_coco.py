# SCE over proposals (only the matched teacher proposal is positive) at the paper's size on
# COCO: the poster's "SCE, delta = 1" row.
_base_ = './proseco_deformable-detr_r50_8xb4-50e_coco.py'
model = dict(detector=dict(bbox_head=dict(loss_contrast=dict(positive_set='matched'))))
