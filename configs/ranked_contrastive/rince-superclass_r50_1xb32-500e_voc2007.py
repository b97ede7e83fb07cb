# "RINCE" on VOC2007 crops: super-category siblings at rank 1 (person, animal, vehicle,
# indoor), with the same class as rank-1 positive too, as the original ran it. The original
# kept only the first 4 siblings (n_sim_classes=5); here all siblings are rank 1.
_base_ = './ranked-contrastive_r50_1xb32-500e_voc2007.py'
model = dict(
    head=dict(loss=dict(_delete_=True, type='SuperclassContrastiveLoss', classes=_base_.classes,
                        superclasses=_base_.superclasses, temperatures=(0.1, 0.225),
                        form='in', cumulative_positives=True,
                        withheld_classes=_base_.withheld_classes)))
