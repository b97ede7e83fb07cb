# Deformable DETR at CPU size (see deformable-detr_tiny.py). One training step at batch 8
# and 128 px takes well under a second on 2 cores (docs/benchmarks.md).
_base_ = ['./deformable-detr_r50.py', './deformable-detr_tiny.py']
model = {{_base_.deformable_detr_tiny}}
