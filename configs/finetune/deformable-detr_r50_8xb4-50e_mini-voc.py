# Fine-tuning on Mini-VOC (5 or 10 % of VOC 07+12 trainval) at the paper's size: the
# Mini-COCO recipe with the VOC dataset config.
_base_ = [
    '../_base_/models/deformable-detr_r50.py', '../_base_/datasets/voc0712_coco-format.py',
    '../_base_/schedules/detr_finetune_no-lr-drop.py'
]
model = dict(bbox_head=dict(num_classes=20))
train_dataloader = dict(
    batch_size=4,
    dataset=dict(data_root='', ann_file='work/splits/voc/train@5pct_seed0.json',
                 data_prefix=dict(img='data/VOCdevkit/')))
train_cfg = dict(max_epochs=500, val_interval=25)
default_hooks = dict(checkpoint=dict(interval=25))
# For the pipeline (mmproseco/pipeline/stages.py): the random-initialization baseline
# saves the whole model, its backbone started from the `backbone` stage's weights.
pretrain_export = dict(source='', backbone='model.backbone')
