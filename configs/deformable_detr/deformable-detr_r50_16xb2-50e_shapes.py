# Supervised Deformable DETR at the paper's size (R50, 300 queries, 6+6 layers) on the
# shapes set, for GPUs: `bash tools/dist_train.sh` or torchrun with --launcher pytorch.
_base_ = [
    '../_base_/models/deformable-detr_r50.py', '../_base_/datasets/shapes_detection.py',
    '../_base_/schedules/detr_50e.py', '../_base_/default_runtime.py'
]
model = dict(bbox_head=dict(num_classes=8))
train_dataloader = dict(batch_size=2)
