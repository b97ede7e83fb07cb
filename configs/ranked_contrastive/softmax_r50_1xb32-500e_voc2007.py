# "SoftMax": the same encoder trained with cross-entropy; its embedding for the prototype
# classifier is the L2-normalised logit vector (as the original baseline).
_base_ = './ranked-contrastive_r50_1xb32-500e_voc2007.py'
custom_hooks = []  # no key encoder
model = dict(
    _delete_=True,
    type='CropClassifier',
    data_preprocessor=_base_.model.data_preprocessor,
    backbone=_base_.model.backbone,
    head=dict(type='CropClassifierHead', in_channels=2048, num_classes=len(_base_.classes)))
