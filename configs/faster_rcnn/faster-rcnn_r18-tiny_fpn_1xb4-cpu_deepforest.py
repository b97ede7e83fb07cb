# Faster R-CNN at CPU size on the DeepForest tree crowns.
_base_ = [
    '../_base_/models/faster-rcnn_r18-tiny_fpn.py',
    '../_base_/datasets/deepforest_detection.py', '../_base_/schedules/sgd_cpu_iters.py'
]
model = dict(
    roi_head=dict(bbox_head=dict(num_classes=1)),
    test_cfg=dict(rcnn=dict(max_per_img=150)))
# Endless sampler: mmengine's iteration loop sleeps 2 s whenever a finite loader runs out,
# which on 22 tiles at batch 4 is every 6 iterations.
train_dataloader = dict(batch_size=4, sampler=dict(type='InfiniteSampler', shuffle=True))
randomness = dict(seed=0)  # seeded, as every CPU run of the pipeline
train_cfg = dict(max_iters=600, val_interval=200)
default_hooks = dict(
    checkpoint=dict(interval=200, save_best='coco/bbox_mAP', rule='greater'),
    visualization=dict(interval=2))
