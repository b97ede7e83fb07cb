# DETReg's fine-tuning recipe for small labeled sets: the optimizer of detr_50e.py, a long
# schedule with no LR drop, and the checkpoint that is best on val kept. It includes the
# runtime (two bases may not set the same key). Experiments set train_cfg.max_epochs,
# val_interval and the checkpoint interval (configs/finetune/).
_base_ = ['./detr_50e.py', '../default_runtime.py']
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True, begin=0)]
default_hooks = dict(checkpoint=dict(save_best='coco/bbox_mAP', rule='greater'))
load_from = None  # the pretraining checkpoint: --cfg-options load_from=...
