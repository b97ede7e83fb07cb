"""FeatureQueue: starts empty, fills in order, wraps around, masks unfilled slots out of the
local-global loss, and round-trips through a state dict."""
import math

import pytest
import torch
import torch.nn.functional as F

import mmproseco  # noqa: F401
from mmproseco.models.losses import LocalGlobalContrastiveLoss
from mmproseco.models.utils import FeatureQueue


def test_starts_empty_and_fills_in_order():
    queue = FeatureQueue(5, 2, with_labels=True)
    assert not queue.filled.any() and queue.labels.tolist() == [-1] * 5
    keys = torch.arange(6.).view(3, 2)
    queue.enqueue(keys, torch.tensor([7, 8, 9]))
    assert queue.filled.tolist() == [True, True, True, False, False]
    torch.testing.assert_close(queue.features[:3], keys)
    assert queue.labels.tolist() == [7, 8, 9, -1, -1] and int(queue.ptr) == 3


def test_wraps_around_over_the_oldest_slots():
    queue = FeatureQueue(5, (2, 1))
    keys = torch.arange(14.).view(7, 2, 1)
    queue.enqueue(keys[:3])
    queue.enqueue(keys[3:])  # keys 3, 4 fill slots 3, 4; keys 5, 6 overwrite slots 0, 1
    assert queue.filled.all() and int(queue.ptr) == 2
    torch.testing.assert_close(queue.features, keys[[5, 6, 2, 3, 4]])
    queue.enqueue(torch.arange(100., 114.).view(7, 2, 1))  # more keys than slots: the last 5
    assert int(queue.ptr) == 2 and int(queue.num_filled) == 5
    assert sorted(queue.features[:, 0, 0].tolist()) == [104., 106., 108., 110., 112.]
    assert queue.features[2, 0, 0] == 104.  # the oldest kept key sits at the pointer


def test_labels_are_required_exactly_with_labels_and_state_round_trips():
    with pytest.raises(ValueError, match='labels'):
        FeatureQueue(4, 2).enqueue(torch.ones(1, 2), torch.zeros(1, dtype=torch.long))
    with pytest.raises(ValueError, match='labels'):
        FeatureQueue(4, 2, with_labels=True).enqueue(torch.ones(1, 2))
    with pytest.raises(ValueError, match='size'):
        FeatureQueue(0, 2)
    queue = FeatureQueue(4, 2, with_labels=True)
    queue.enqueue(torch.ones(3, 2), torch.tensor([1, 2, 3]))
    assert set(queue.state_dict()) == {'features', 'labels', 'ptr', 'num_filled'}
    restored = FeatureQueue(4, 2, with_labels=True)
    restored.load_state_dict(queue.state_dict())
    assert restored.filled.tolist() == [True, True, True, False]
    assert int(restored.ptr) == 3 and restored.labels.tolist() == [1, 2, 3, -1]


def hand_info_nce(q, k, negatives, tau):
    """Mean over queries of -log(e^{q.k/tau} / (e^{q.k/tau} + sum_n e^{q.n/tau}))."""
    total = 0.0
    for n in range(q.shape[0]):
        pos = math.exp(float(q[n] @ k[n]) / tau)
        neg = sum(math.exp(float(q[n] @ m) / tau) for m in negatives)
        total += -math.log(pos / (pos + neg))
    return total / q.shape[0]


def test_unfilled_slots_contribute_nothing_to_the_local_global_loss():
    torch.manual_seed(0)
    weights, tau = (0.3, 1.0), 0.2
    loss = LocalGlobalContrastiveLoss(layer_weights=weights, embed_dim=4, queue_size=6,
                                      temperature=tau)

    def unit(n):  # one (n, 4) batch of unit vectors per layer
        return [F.normalize(torch.randn(n, 4), dim=1) for _ in weights]

    old_globals, old_locals = unit(3), unit(3)
    loss.enqueue(old_globals, old_locals)  # half of the 6 slots
    queries_g, queries_l, keys_g, keys_l = unit(2), unit(2), unit(2), unit(2)
    out = loss(queries_g, queries_l, keys_g, keys_l)
    # Written out with only the 3 enqueued keys of each layer as negatives.
    for name, (q, k, negatives) in dict(
            gg=(queries_g, keys_g, old_globals), lg=(queries_l, keys_g, old_globals),
            ll=(queries_l, keys_l, old_locals)).items():
        expected = sum(w * hand_info_nce(q[layer], k[layer], negatives[layer], tau)
                       for layer, w in enumerate(weights))
        assert out[f'loss_lg_{name}'].item() == pytest.approx(expected, rel=1e-5)
    # An empty queue has no negatives: the positive is the only logit.
    empty = LocalGlobalContrastiveLoss(layer_weights=weights, embed_dim=4, queue_size=6)
    assert all(v.item() == 0 for v in empty(queries_g, queries_l, keys_g, keys_l).values())
