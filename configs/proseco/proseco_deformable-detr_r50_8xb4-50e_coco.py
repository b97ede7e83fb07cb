# ProSeCo at the paper's size: Deformable DETR R50 (300 queries, 6+6 layers) pretrained on
# the unlabeled COCO train2017 images, 8 GPUs x 4 images, AdamW 2e-4, clip 0.1, 50 epochs.
# The backbone is frozen as in the paper: give it ImageNet weights you have on disk,
#   --cfg-options model.detector.backbone.init_cfg._delete_=True \
#       model.detector.backbone.init_cfg.type=Pretrained \
#       model.detector.backbone.init_cfg.checkpoint=/path/to/resnet50.pth
# or pretrain one with configs/selfsup/ (image-level SCE).
_base_ = [
    '../_base_/models/proseco_deformable-detr_r50.py', '../_base_/datasets/coco_unlabeled.py',
    '../_base_/schedules/detr_50e.py', '../_base_/default_runtime.py'
]
val_dataloader = val_cfg = val_evaluator = None
test_dataloader = test_cfg = test_evaluator = None
default_hooks = dict(checkpoint=dict(save_best=None), visualization=dict(draw=False))
auto_scale_lr = dict(base_batch_size=32)
# For the pipeline (mmproseco/pipeline/stages.py): the student is the detector that
# fine-tuning loads, its backbone starts both branches, and freezing it is one switch.
pretrain_export = dict(
    source='student', backbone='model.detector.backbone',
    freeze={'model.freeze_backbone': True})
