# Attention-guided I2I adapter at CPU size: the paper-size modules (attention-i2i_resnet9.py)
# with a 16-channel ResNet-2 generator with 4 content maps, a 2-layer PatchGAN and small
# local-global heads and queues.
_base_ = './attention-i2i_resnet9.py'
model = dict(
    generator=dict(base_channels=16, num_blocks=2, num_content_maps=4),
    discriminator=dict(base_channels=16, num_layers=2),
    # input, down1, down2, residual blocks 1 and 2
    nce_layers=(0, 2, 3, 4, 5),
    patch_sampler=dict(num_patches=64, embed_dim=64),
    local_global=dict(
        projector=dict(hidden_dim=128, embed_dim=64),
        # [D] see docs/i2i.md "Loss weights": L_GA sums 12 InfoNCE terms against a queue,
        # ~30 at this size, 89-93 % of the generator loss at weight 1; 0.05 brings it level
        # with the PatchNCE terms (~1.4-2.5) and above L_adv (~0.8)
        loss=dict(embed_dim=64, queue_size=512)))
# momentum copies <- 0.99 * copies + 0.01 * online after every step (MoCo's rule)
custom_hooks = [dict(type='TeacherEMAHook', momentum=0.99, momentum_schedule='constant')]
