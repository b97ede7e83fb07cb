# CPU-size crop embedder: the first three stages of ResNet-18 with the CIFAR stem at a quarter
# of the width (base 16, 64-d features) on 32 px crops, MLP head 64-64-64, in-batch contrast
# of the two views.
model = dict(
    type='CropEmbedder',
    data_preprocessor=dict(type='ObjectCropDataPreprocessor', crop_size=32, num_views=2),
    backbone=dict(
        type='CifarResNet',
        depth=18,
        base_channels=16,
        num_stages=3,
        strides=(1, 2, 2),
        dilations=(1, 1, 1),
        out_indices=(2, ),
        frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        style='pytorch',
        init_cfg=None),
    head=dict(type='ContrastiveEmbeddingHead', in_channels=64, hidden_channels=64,
              out_channels=64))
# no key_encoder: add key_encoder=dict(decay=0.99, queue_size=2048) for the MoCo queue
