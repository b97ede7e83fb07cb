# CPU-size "Ours" (a few minutes on 2 cores): ResNet-18 (quarter width, CIFAR stem) on 32 px
# crops, in-batch contrast of the two views, 200 iterations of 16 images (~46 crops).
_base_ = [
    '../_base_/models/ranked-contrastive_r18-cpu.py',
    '../_base_/datasets/shapes_crops.py',
    '../_base_/schedules/ranked-contrastive_sgd-cos-cpu.py',
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
default_hooks = dict(visualization=dict(draw=False))
train_dataloader = dict(batch_size=16)
randomness = dict(seed=0)
# A fifth of the training images (~1800 crops) build the prototypes: evaluation stays short.
val_dataloader = dict(
    dataset=dict(datasets=[dict(_base_.val_dataloader.dataset.datasets[0], indices=600),
                           _base_.val_dataloader.dataset.datasets[1]]))
test_dataloader = dict(
    dataset=dict(datasets=[dict(_base_.test_dataloader.dataset.datasets[0], indices=600),
                           _base_.test_dataloader.dataset.datasets[1]]))
