# "SupCL (r=1)" on VOC2007 crops of all 20 classes: one rank (same class), tau 0.1, RINCE-in.
_base_ = './ranked-contrastive_r50_1xb32-500e_voc2007-20cls.py'
model = dict(
    head=dict(loss=dict(_delete_=True, type='SupConLoss', classes=_base_.classes,
                        temperature=0.1, form='in')))
