# Fine-tuning of a pretrained CPU-size Deformable DETR on a labeled fraction of shapes.
# DETReg's recipe scaled down: a constant LR (no drop: small labeled sets overfit an
# early drop), validation on val every val_interval iterations, the best val checkpoint
# kept for the test set. The DVC stage sets, through --cfg-options:
#   load_from                             work/pretrain/<method>/detector.pth (or None)
#   train_dataloader.dataset.ann_file     work/splits/shapes/train@<pct>pct_seed<s>.json
#   train_cfg.max_iters / val_interval, randomness.seed
_base_ = '../deformable_detr/deformable-detr_r18-tiny_1xb8-cpu_shapes.py'
load_from = None
train_dataloader = dict(dataset=dict(data_root='', data_prefix=dict(img='data/shapes/images/')))
randomness = dict(seed=0)
