# "Ours": RINCE-in over the user ranking of the shapes classes (class_similarity.json), the
# original recipe (64 px crops, ResNet-50, MoCo queue, SGD 0.5 cosine, 500 epochs).
# Temperatures follow the original tau(s) = 0.1 + (1 - s) * 0.5 at similarity
# s = 1, 0.75, 0.5, 0.25 for ranks 0-3.
_base_ = [
    '../_base_/models/ranked-contrastive_r50.py',
    '../_base_/datasets/shapes_crops.py',
    '../_base_/schedules/ranked-contrastive_sgd-cos-500e.py',
]
model = dict(
    data_preprocessor=dict(augment=_base_.crop_augment),
    head=dict(
        loss=dict(
            type='RankedContrastiveLoss',
            classes=_base_.classes,
            class_ranks=_base_.class_similarity_file,
            temperatures=(0.1, 0.225, 0.35, 0.475),
            form='in',
            withheld_classes=_base_.withheld_classes)))
# the detection visualiser has no boxes to paint here; the metrics draw their own PNGs
default_hooks = dict(visualization=dict(draw=False))
