# Faster R-CNN R50-FPN at the standard size: mmdet's own model config with the backbone
# starting from random weights (nothing can be downloaded here). Give your own weights
# with model.backbone.init_cfg=dict(_delete_=True, type='Pretrained', checkpoint=PATH).
_base_ = 'mmdet::_base_/models/faster-rcnn_r50_fpn.py'
model = dict(backbone=dict(init_cfg=None))
