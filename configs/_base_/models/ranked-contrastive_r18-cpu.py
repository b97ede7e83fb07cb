# CPU-size crop embedder: ResNet-18 with the CIFAR stem at a quarter of the width (base 16,
# 128-d features) on 32 px crops, MLP head 128-128-64, in-batch contrast of the two views.
model = dict(
    type='CropEmbedder',
    data_preprocessor=dict(type='ObjectCropDataPreprocessor', crop_size=32, num_views=2),
    backbone=dict(
        type='CifarResNet',
        depth=18,
        base_channels=16,
        num_stages=4,
        out_indices=(3, ),
        frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        style='pytorch',
        init_cfg=None),
    head=dict(type='ContrastiveEmbeddingHead', in_channels=128, hidden_channels=128,
              out_channels=64))
# no key_encoder: add key_encoder=dict(queue_size=2048) and custom_hooks=[dict(
# type='TeacherEMAHook', momentum=0.99, momentum_schedule='constant')] for the MoCo queue
