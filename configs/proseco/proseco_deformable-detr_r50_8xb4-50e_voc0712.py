# ProSeCo at the paper's size on the unlabeled VOC 07+12 trainval images (converted to
# COCO json, see configs/_base_/datasets/voc0712_coco-format.py).
_base_ = './proseco_deformable-detr_r50_8xb4-50e_coco.py'
train_dataloader = dict(
    dataset=dict(ann_file='data/VOCdevkit/annotations/voc0712_trainval.json',
                 data_prefix=dict(img='data/VOCdevkit/'),
                 proposal_file='work/proposals/voc/proposals.npz'))
