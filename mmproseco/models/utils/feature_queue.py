"""A MoCo queue of past momentum keys that starts empty and masks its unfilled slots."""
from typing import Optional, Sequence, Union

import torch
from torch import Tensor, nn


class FeatureQueue(nn.Module):
    """First-in first-out ring buffer of ``K`` keys (and optionally their labels).

    The queue starts empty: a slot takes part in a loss only once a key was written to it
    (:attr:`filled`), so no random vector ever serves as a negative. Keys are written over
    the oldest slots; the state lives in buffers, so checkpoints hold it and ``--resume``
    continues with the same negatives. Each process keeps its own queue (keys are not
    gathered across ranks).

    Args:
        size (int): ``K``, the number of slots.
        feature_shape (int | Sequence[int]): shape of one key, e.g. ``D`` or ``(L, D)``.
        with_labels (bool): also keep one integer label per key (-1 in unfilled slots).
    """

    def __init__(self,
                 size: int,
                 feature_shape: Union[int, Sequence[int]],
                 with_labels: bool = False) -> None:
        super().__init__()
        if size < 1:
            raise ValueError(f'FeatureQueue: size must be >= 1, got {size}')
        if isinstance(feature_shape, int):
            feature_shape = (feature_shape, )
        self.register_buffer('features', torch.zeros(size, *feature_shape))
        self.register_buffer(
            'labels', torch.full((size, ), -1, dtype=torch.long) if with_labels else None)
        self.register_buffer('ptr', torch.zeros((), dtype=torch.long))
        self.register_buffer('num_filled', torch.zeros((), dtype=torch.long))

    @property
    def size(self) -> int:
        return self.features.size(0)

    @property
    def filled(self) -> Tensor:
        """``(K,)`` bool, True for the slots that hold a key (computed without a host sync)."""
        return torch.arange(self.size, device=self.features.device) < self.num_filled

    @torch.no_grad()
    def enqueue(self, features: Tensor, labels: Optional[Tensor] = None) -> None:
        """Write ``(N, *feature_shape)`` keys (and ``(N,)`` labels) over the oldest slots.

        With ``N > K`` only the last ``K`` keys are kept.
        """
        if (labels is None) != (self.labels is None):
            raise ValueError('FeatureQueue: pass labels exactly when built with_labels=True')
        features = features.detach()[-self.size:]
        slots = (self.ptr + torch.arange(len(features), device=features.device)) % self.size
        self.features[slots] = features.to(self.features.dtype)
        if labels is not None:
            self.labels[slots] = labels[-self.size:]
        self.ptr.copy_((self.ptr + len(features)) % self.size)
        self.num_filled.copy_((self.num_filled + len(features)).clamp(max=self.size))
