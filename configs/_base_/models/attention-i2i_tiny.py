# Attention-guided I2I adapter at CPU size: a 16-channel ResNet-2 generator with 4 content maps,
# a 2-layer PatchGAN and small local-global heads and queues. Same modules as the paper size.
model = dict(
    type='AttentionI2IAdapter',
    generator=dict(
        type='AttentionGuidedGenerator',
        base_channels=16,
        num_blocks=2,
        num_content_maps=4,
        use_attention=True,
        attention_kernel_size=7),
    discriminator=dict(type='PatchGANDiscriminator', base_channels=16, num_layers=2),
    gan_loss=dict(type='GANLoss', gan_mode='lsgan', loss_weight=1.0),
    nce_loss=dict(type='PatchNCELoss', temperature=0.07, loss_weight=1.0),
    # input, down1, down2, residual blocks 1 and 2
    nce_layers=(0, 2, 3, 4, 5),
    patch_sampler=dict(num_patches=64, embed_dim=64),
    nce_idt=True,
    local_global=dict(
        views=dict(type='ContrastiveViews', min_crop_area=0.6, grid=4),
        projector=dict(hidden_dim=128, embed_dim=64),
        loss=dict(
            type='LocalGlobalContrastiveLoss',
            layer_weights=(0.1, 0.4, 0.7, 1.0),
            embed_dim=64,
            queue_size=512,
            temperature=0.2,
            # [D] see docs/i2i.md "Loss weights": L_GA sums 12 InfoNCE terms against a queue,
            # ~30 at this size, 89-93 % of the generator loss at weight 1; 0.05 brings it
            # level with the PatchNCE terms (~1.4-2.5) and above L_adv (~0.8)
            loss_weight=0.05)),
    data_preprocessor=dict(
        type='UnpairedI2IDataPreprocessor',
        mean=[127.5, 127.5, 127.5],
        std=[127.5, 127.5, 127.5],
        bgr_to_rgb=True))
# momentum copies <- 0.99 * copies + 0.01 * online after every step (MoCo's rule)
custom_hooks = [dict(type='TeacherEMAHook', momentum=0.99, momentum_schedule='constant')]
