# Supervised Deformable DETR at CPU size on the generated shapes set: trains in minutes
# on 2 cores. `mim train mmproseco configs/deformable_detr/<this file>`.
_base_ = [
    '../_base_/models/deformable-detr_r18-tiny.py', '../_base_/datasets/shapes_detection.py',
    '../_base_/schedules/cpu_iters.py'
]
model = dict(bbox_head=dict(num_classes=8))
train_cfg = dict(max_iters=1200, val_interval=400)
default_hooks = dict(checkpoint=dict(interval=400, save_best='coco/bbox_mAP', rule='greater'))
# Evaluation in batches of 8 in the main process: the 128-px images all have one size (no
# padding, the same boxes as one by one), and on 2 cores two loader processes started at
# every validation cost more than they load (docs/benchmarks.md).
val_dataloader = dict(batch_size=8, num_workers=0)
test_dataloader = dict(batch_size=8, num_workers=0)
