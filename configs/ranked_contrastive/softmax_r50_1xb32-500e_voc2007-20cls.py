# "SoftMax" on VOC2007 crops of all 20 classes: cross-entropy, L2-normalised logits as the
# embedding of the prototype classifier.
_base_ = './ranked-contrastive_r50_1xb32-500e_voc2007-20cls.py'
custom_hooks = []  # no key encoder
model = dict(
    _delete_=True,
    type='CropClassifier',
    data_preprocessor=_base_.model.data_preprocessor,
    backbone=_base_.model.backbone,
    head=dict(type='CropClassifierHead', in_channels=2048, num_classes=len(_base_.classes)))
