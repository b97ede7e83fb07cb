# The original's crop embedder: ResNet-50 with the CIFAR stem on 64 px crops, MLP head
# 2048-2048-128, MoCo key encoder (momentum 0.99) and a queue of 2048 keys with labels.
# The loss (model.head.loss) is set by each experiment, since it needs the dataset's classes.
model = dict(
    type='CropEmbedder',
    data_preprocessor=dict(type='ObjectCropDataPreprocessor', crop_size=64, num_views=2),
    backbone=dict(
        type='CifarResNet',
        depth=50,
        num_stages=4,
        out_indices=(3, ),
        frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        style='pytorch',
        init_cfg=None),
    head=dict(type='ContrastiveEmbeddingHead', in_channels=2048, hidden_channels=2048,
              out_channels=128),
    key_encoder=dict(queue_size=2048))
# key_encoder <- 0.99 * key_encoder + 0.01 * encoder after every step (MoCo, constant)
custom_hooks = [dict(type='TeacherEMAHook', momentum=0.99, momentum_schedule='constant')]
