# ProSeCo around the CPU-size Deformable DETR (deformable-detr_tiny.py). Without an
# ImageNet backbone the backbone trains jointly (docs/proseco.md explains the measurement).
_base_ = ['./proseco_deformable-detr_r50.py', './deformable-detr_tiny.py']
model = dict(
    freeze_backbone=False,
    detector={{_base_.deformable_detr_tiny}})
