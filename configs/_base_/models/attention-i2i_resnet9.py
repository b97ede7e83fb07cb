# Attention-guided I2I adapter at the paper's size (Triantafyllidou et al., BMVC 2024):
# ResNet-9 encoder E_B (first conv stride 1), G_C with 9 content maps (tanh), G_A with 10
# attention maps (softmax), PatchGAN n_layers=3, CUT's PatchNCE, local-global loss with momentum
# copies and MoCo queues. Values marked [D] are not given by the paper (see docs/i2i.md).
model = dict(
    type='AttentionI2IAdapter',
    generator=dict(
        type='AttentionGuidedGenerator',
        base_channels=64,
        num_blocks=9,
        num_content_maps=9,
        use_attention=True,
        attention_kernel_size=7),  # paper k7; AttentionGAN uses 1
    discriminator=dict(type='PatchGANDiscriminator', base_channels=64, num_layers=3),
    gan_loss=dict(type='GANLoss', gan_mode='lsgan', loss_weight=1.0),  # [D] CUT default
    nce_loss=dict(type='PatchNCELoss', temperature=0.07, loss_weight=1.0),
    # [D] input, down1, down2, residual blocks 1 and 5 (CUT's 0,4,8,12,16 without antialiasing)
    nce_layers=(0, 2, 3, 4, 8),
    patch_sampler=dict(num_patches=256, embed_dim=256),
    nce_idt=True,  # [D] CUT default
    local_global=dict(
        views=dict(type='ContrastiveViews', min_crop_area=0.6, grid=4),
        projector=dict(hidden_dim=2048, embed_dim=128),  # [D] DetCo-style
        loss=dict(
            type='LocalGlobalContrastiveLoss',
            layer_weights=(0.1, 0.4, 0.7, 1.0),
            embed_dim=128,
            queue_size=65536,  # [D] MoCo
            temperature=0.2,  # [D] MoCo v2
            loss_weight=0.05)),  # [D] docs/i2i.md "Loss weights" (the paper: 1)
    data_preprocessor=dict(
        type='UnpairedI2IDataPreprocessor',
        mean=[127.5, 127.5, 127.5],
        std=[127.5, 127.5, 127.5],
        bgr_to_rgb=True))
# momentum copies <- m * copies + (1 - m) * online after every step, m = 0.999 [D] MoCo
custom_hooks = [dict(type='TeacherEMAHook', momentum=0.999, momentum_schedule='constant')]
