"""Networks and losses of the attention-guided I2I adapter, checked against hand computations."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmproseco.models.i2i import (AttentionGuidedGenerator, ContrastiveViews, PatchGANDiscriminator,
                                  PatchSampleMLP, jigsaw_patches)
from mmproseco.models.losses import (GANLoss, LocalGlobalContrastiveLoss, PatchNCELoss, gan_loss,
                                     local_global_nce, patch_nce_loss, queue_info_nce)


def tiny_generator(**kwargs):
    torch.manual_seed(0)
    generator = AttentionGuidedGenerator(base_channels=4, num_blocks=1, num_content_maps=3,
                                         **kwargs)
    generator.init_weights()
    return generator


def test_output_is_attention_weighted_mix_of_contents_and_input():
    generator = tiny_generator()
    x = torch.rand(2, 3, 16, 20) * 2 - 1
    out = generator(x)
    attention, content = out['attention'], out['content']
    assert attention.shape == (2, 4, 16, 20) and content.shape == (2, 3, 3, 16, 20)
    torch.testing.assert_close(attention.sum(dim=1), torch.ones(2, 16, 20))
    expected = x * attention[:, 3:4]
    for t in range(3):
        expected = expected + content[:, t] * attention[:, t:t + 1]
    torch.testing.assert_close(out['output'], expected)


@pytest.mark.parametrize('size', [(17, 23), (5, 9), (32, 31)])
def test_odd_sizes_keep_the_input_shape(size):
    x = torch.rand(1, 3, *size)
    assert tiny_generator()(x)['output'].shape == x.shape
    assert tiny_generator(use_attention=False)(x)['output'].shape == x.shape


def test_cut_mode_has_no_attention_and_tanh_range():
    out = tiny_generator(use_attention=False)(torch.rand(1, 3, 8, 8))
    assert 'attention' not in out
    assert out['output'].abs().max() <= 1


def test_discriminator_patch_output_shape():
    disc = PatchGANDiscriminator(base_channels=4, num_layers=3)
    # CUT's NLayerDiscriminator on 64 px: 32 → 16 → 8 (s2) → 7 (s1) → 6
    assert disc(torch.rand(2, 3, 64, 64)).shape == (2, 1, 6, 6)


def explicit_patch_nce(query, key, tau):
    """Per-patch PatchNCE written as a loop over images and patches."""
    losses = []
    for b in range(query.shape[0]):
        for i in range(query.shape[1]):
            positive = math.exp(float(query[b, i] @ key[b, i]) / tau)
            denominator = positive
            for j in range(query.shape[1]):
                similarity = -10.0 if j == i else float(query[b, i] @ key[b, j])
                denominator += math.exp(similarity / tau)
            losses.append(-math.log(positive / denominator))
    return torch.tensor(losses)


def test_patch_nce_matches_explicit_loop_same_image_negatives_only():
    torch.manual_seed(1)
    query = F.normalize(torch.randn(2, 5, 8), dim=-1)
    key = F.normalize(torch.randn(2, 5, 8), dim=-1)
    for tau in (0.07, 1.0):
        torch.testing.assert_close(
            patch_nce_loss(query, key, tau), explicit_patch_nce(query, key, tau).float(),
            rtol=1e-4, atol=1e-4)
    # other images' keys are not negatives: changing image 1 leaves image 0's losses unchanged
    key2 = key.clone()
    key2[1] = F.normalize(torch.randn(5, 8), dim=-1)
    torch.testing.assert_close(patch_nce_loss(query, key2)[:5], patch_nce_loss(query, key)[:5])


def test_patch_nce_keys_get_no_gradient_and_module_averages_layers():
    query = F.normalize(torch.randn(1, 4, 6), dim=-1).requires_grad_()
    key = F.normalize(torch.randn(1, 4, 6), dim=-1).requires_grad_()
    patch_nce_loss(query, key).sum().backward()
    assert key.grad is None and query.grad is not None
    q2, k2 = F.normalize(torch.randn(1, 3, 6), dim=-1), F.normalize(torch.randn(1, 3, 6), dim=-1)
    module = PatchNCELoss(temperature=0.07, loss_weight=2.0)
    expected = 2.0 * (patch_nce_loss(query, key).mean() + patch_nce_loss(q2, k2).mean()) / 2
    torch.testing.assert_close(module([query, q2], [key, k2]), expected)


def test_patch_sampler_uses_the_same_positions_for_queries_and_keys():
    sampler = PatchSampleMLP(in_channels=[3, 5], num_patches=4, embed_dim=6)
    feats = [torch.randn(2, 3, 4, 4), torch.randn(2, 5, 2, 2)]
    keys, ids = sampler(feats)
    assert [k.shape for k in keys] == [(2, 4, 6), (2, 4, 6)]
    torch.testing.assert_close(keys[0].norm(dim=-1), torch.ones(2, 4))
    queries, ids2 = sampler(feats, ids)
    assert all(torch.equal(a, b) for a, b in zip(ids, ids2))
    torch.testing.assert_close(queries[0], keys[0])
    # position p of image b is the MLP of that pixel's channel vector
    pixel = feats[0][1].flatten(1)[:, ids[0][2]]
    torch.testing.assert_close(keys[0][1, 2], F.normalize(sampler.mlps[0](pixel), dim=0))


def test_queue_info_nce_matches_hand_computation():
    query = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    key = torch.tensor([[0.6, 0.8], [0.0, 1.0]])
    queue = torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.0, -1.0]])
    tau = 0.5
    # query 0: positive 0.6, negatives 1, -1, 0; query 1: positive 1, negatives 0, 0, -1
    hand = [
        -math.log(math.exp(1.2) / (math.exp(1.2) + math.exp(2) + math.exp(-2) + 1)),
        -math.log(math.exp(2) / (math.exp(2) + 1 + 1 + math.exp(-2))),
    ]
    torch.testing.assert_close(queue_info_nce(query, key, queue, tau), torch.tensor(hand))


def test_local_global_terms_pair_the_right_embeddings_and_queues():
    torch.manual_seed(2)
    qg, ql, kg, kl = (F.normalize(torch.randn(3, 4), dim=1) for _ in range(4))
    global_queue, local_queue = (F.normalize(torch.randn(5, 4), dim=1) for _ in range(2))
    terms = local_global_nce(qg, ql, kg, kl, global_queue, local_queue, 0.2)

    def hand(q, k, queue):
        total = 0.0
        for n in range(q.shape[0]):
            pos = math.exp(float(q[n] @ k[n]) / 0.2)
            neg = sum(math.exp(float(q[n] @ m) / 0.2) for m in queue)
            total += -math.log(pos / (pos + neg))
        return total / q.shape[0]

    assert terms['gg'].item() == pytest.approx(hand(qg, kg, global_queue), rel=1e-5)
    assert terms['lg'].item() == pytest.approx(hand(ql, kg, global_queue), rel=1e-5)
    assert terms['ll'].item() == pytest.approx(hand(ql, kl, local_queue), rel=1e-5)


def test_local_global_module_weights_layers_and_enqueues_as_ring_buffer():
    torch.manual_seed(3)
    loss = LocalGlobalContrastiveLoss(layer_weights=(0.1, 1.0), embed_dim=4, queue_size=5,
                                      temperature=0.2)
    embeds = [[F.normalize(torch.randn(3, 4), dim=1) for _ in range(2)] for _ in range(4)]
    loss.enqueue(embeds[2], embeds[3])  # 3 of the 5 slots
    out = loss(*embeds)
    filled = loss.global_queue.filled
    expected_ll = sum(
        w * local_global_nce(embeds[0][layer], embeds[1][layer], embeds[2][layer],
                             embeds[3][layer], loss.global_queue.features[:, layer],
                             loss.local_queue.features[:, layer], 0.2, filled, filled)['ll']
        for layer, w in enumerate((0.1, 1.0)))
    torch.testing.assert_close(out['loss_lg_ll'], expected_ll)
    loss.enqueue(embeds[2], embeds[3])  # 6 keys into 5 slots: slot 0 is overwritten by key 2
    torch.testing.assert_close(loss.global_queue.features[0, 1], embeds[2][1][2])
    torch.testing.assert_close(loss.local_queue.features[4, 0], embeds[3][0][1])
    assert loss.global_queue.ptr.item() == 1 and loss.local_queue.ptr.item() == 1


def test_gan_losses():
    logits = torch.tensor([0.5, -1.0])
    assert gan_loss(logits, True, 'lsgan').item() == pytest.approx((0.25 + 4) / 2)
    assert gan_loss(logits, False, 'lsgan').item() == pytest.approx((0.25 + 1) / 2)
    expected = -(math.log(1 / (1 + math.exp(-0.5))) + math.log(1 / (1 + math.exp(1)))) / 2
    assert GANLoss('vanilla')(logits, True).item() == pytest.approx(expected, rel=1e-6)
    with pytest.raises(ValueError, match='gan_mode'):
        GANLoss('wgan')


def test_jigsaw_patches_are_a_shuffle_of_the_grid():
    images = torch.arange(2 * 1 * 8 * 8, dtype=torch.float).reshape(2, 1, 8, 8)
    patches = jigsaw_patches(images, grid=2)
    assert patches.shape == (8, 1, 4, 4)
    for b in range(2):
        blocks = {tuple(images[b, :, r:r + 4, c:c + 4].flatten().tolist())
                  for r in (0, 4) for c in (0, 4)}
        got = {tuple(p.flatten().tolist()) for p in patches[4 * b:4 * b + 4]}
        assert got == blocks


def test_views_keep_shape_and_range():
    views = ContrastiveViews(grid=4)
    view, patches = views(torch.rand(2, 3, 32, 32) * 2 - 1)
    assert view.shape == (2, 3, 32, 32) and patches.shape == (32, 3, 8, 8)
    assert view.min() >= -1 and view.max() <= 1
    with pytest.raises(ValueError, match='min_crop_area'):
        ContrastiveViews(min_crop_area=0)


def _cut_xavier_by_hand(module, types):
    """CUT's init written out: xavier-normal weights (gain 0.02), zero biases."""
    for m in module.modules():
        if isinstance(m, types):
            torch.nn.init.xavier_normal_(m.weight, gain=0.02)
            torch.nn.init.zeros_(m.bias)


@pytest.mark.parametrize('build, types', [
    (lambda: AttentionGuidedGenerator(base_channels=4, num_blocks=2, num_content_maps=3),
     (torch.nn.Conv2d, torch.nn.ConvTranspose2d)),
    (lambda: PatchGANDiscriminator(base_channels=4, num_layers=2), (torch.nn.Conv2d, )),
    (lambda: PatchSampleMLP([3, 8], num_patches=4, embed_dim=16), (torch.nn.Linear, )),
])
def test_init_cfg_is_cuts_xavier_init(build, types):
    torch.manual_seed(0)
    ours = build()
    ours.init_weights()
    torch.manual_seed(0)
    reference = build()
    _cut_xavier_by_hand(reference, types)
    # same draws in the same order: the init_cfg is exactly the hand-written init
    for (name, value), expected in zip(ours.state_dict().items(), reference.state_dict().values()):
        torch.testing.assert_close(value, expected, rtol=0, atol=0, msg=name)
    layers = [m for m in ours.modules() if isinstance(m, types)]
    assert layers and all(not m.bias.any() for m in layers)
    weights = torch.cat([m.weight.flatten() for m in layers])
    assert weights.abs().max() < 0.05  # far below PyTorch's default (kaiming-uniform) scale
