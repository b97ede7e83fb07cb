# DETReg around the CPU-size Deformable DETR. Its C3 has 64 channels (experiments set
# model.bbox_head.target_channels=64); the backbone
# trains jointly here (no pretrained backbone exists offline), so the regression target
# is detached and moves with it.
_base_ = ['./detreg_deformable-detr_r50.py', './deformable-detr_tiny.py']
model = {{_base_.deformable_detr_tiny}}
