# "RINCE": same class at rank 0, the other members of its super-category at rank 1.
_base_ = './ranked-contrastive_r18_1xb16-cpu_shapes.py'
model = dict(
    head=dict(loss=dict(_delete_=True, type='SuperclassContrastiveLoss', classes=_base_.classes,
                        superclasses=_base_.class_similarity_file, temperatures=(0.1, 0.225),
                        form='in', withheld_classes=_base_.withheld_classes)))
