# Fine-tuning on Mini-COCO (a labeled fraction of train2017) at the paper's size, from a
# pretraining checkpoint exported by tools/export_pretrained.py:
#   mim train mmproseco configs/finetune/<this file> --launcher pytorch --gpus 8 \
#       --cfg-options load_from=work/pretrain/proseco/detector.pth \
#       train_dataloader.dataset.ann_file=work/splits/coco/train@1pct_seed0.json
_base_ = [
    '../_base_/models/deformable-detr_r50.py', '../_base_/datasets/coco_detection.py',
    '../_base_/schedules/detr_finetune_no-lr-drop.py'
]
model = dict(bbox_head=dict(num_classes=80))
train_dataloader = dict(
    batch_size=4,
    dataset=dict(data_root='', ann_file='work/splits/coco/train@1pct_seed0.json',
                 data_prefix=dict(img='data/coco/train2017/')))
# 1 % of COCO is ~1,200 images: DETReg fine-tunes for many epochs
train_cfg = dict(max_epochs=2000, val_interval=50)
default_hooks = dict(checkpoint=dict(interval=50))
# For the pipeline (mmproseco/pipeline/stages.py): the random-initialization baseline
# saves the whole model, its backbone started from the `backbone` stage's weights.
pretrain_export = dict(source='', backbone='model.backbone')
