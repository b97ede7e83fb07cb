# "RINCE" on VOC2007 crops of all 20 classes: super-category siblings at rank 1, the same class
# a rank-1 positive too (see rince-superclass_r50_1xb32-500e_voc2007.py).
_base_ = './ranked-contrastive_r50_1xb32-500e_voc2007-20cls.py'
model = dict(
    head=dict(loss=dict(_delete_=True, type='SuperclassContrastiveLoss', classes=_base_.classes,
                        superclasses=_base_.superclasses, temperatures=(0.1, 0.225),
                        form='in', cumulative_positives=True)))
