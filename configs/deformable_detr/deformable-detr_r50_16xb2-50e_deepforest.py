# Supervised Deformable DETR at the paper's size on the DeepForest tree crowns.
_base_ = [
    '../_base_/models/deformable-detr_r50.py', '../_base_/datasets/deepforest_detection.py',
    '../_base_/schedules/detr_50e.py', '../_base_/default_runtime.py'
]
model = dict(bbox_head=dict(num_classes=1))
train_dataloader = dict(batch_size=2)
