# Fine-tuning on Mini-VOC (5 or 10 % of VOC 07+12 trainval) at the paper's size: the
# Mini-COCO recipe with the VOC dataset config swapped in.
_base_ = [
    '../_base_/models/deformable-detr_r50.py', '../_base_/datasets/voc0712_coco-format.py',
    '../_base_/schedules/detr_50e.py', '../_base_/default_runtime.py'
]
model = dict(bbox_head=dict(num_classes=20))
train_dataloader = dict(
    batch_size=4,
    dataset=dict(data_root='', ann_file='work/splits/voc/train@5pct_seed0.json',
                 data_prefix=dict(img='data/VOCdevkit/')))
max_epochs = 500
train_cfg = dict(max_epochs=max_epochs, val_interval=25)
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True, begin=0, end=max_epochs)]
default_hooks = dict(checkpoint=dict(interval=25, save_best='coco/bbox_mAP', rule='greater'))
