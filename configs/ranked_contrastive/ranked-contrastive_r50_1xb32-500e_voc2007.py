# "Ours" on VOC2007 object crops with chair and motorbike withheld for OOD (18 training
# classes; *_voc2007-20cls.py trains all 20), as the original ran it: its custom class ranking
# (withheld classes taken out of it, as the original's OOD ranking), one rank of similar classes
# at tau 0.225 = similarity 0.75, RINCE-in with the same and similar
# classes as rank-1 positives (use_same_and_similar_class), ResNet-50 + MoCo queue, SGD 0.5
# cosine, 500 epochs. Set emulate_padding_bug=True, num_columns=3 to also copy the original
# "r=3" bug (unrelated classes padded into the ranking as positives).
_base_ = [
    '../_base_/models/ranked-contrastive_r50.py',
    '../_base_/datasets/voc2007_crops.py',
    '../_base_/schedules/ranked-contrastive_sgd-cos-500e.py',
]
model = dict(
    head=dict(
        loss=dict(
            type='RankedContrastiveLoss',
            classes=_base_.classes,
            class_ranks=_base_.class_ranks,
            temperatures=(0.1, 0.225),
            form='in',
            cumulative_positives=True,
            withheld_classes=_base_.withheld_classes)))
default_hooks = dict(visualization=dict(draw=False))
