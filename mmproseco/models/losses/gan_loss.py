"""Adversarial loss of the translator: LSGAN (CUT's default) or the vanilla log-loss
(paper Eq. 3)."""
import torch
import torch.nn.functional as F
from mmdet.registry import MODELS
from torch import Tensor, nn

GAN_MODES = ('lsgan', 'vanilla')


def gan_loss(logits: Tensor, target_is_real: bool, gan_mode: str = 'lsgan') -> Tensor:
    """Mean adversarial loss of discriminator outputs against an all-real or all-fake target.

    ``lsgan``: ``mean((D − y)²)``; ``vanilla``: ``BCE(sigmoid(D), y)``, with ``y`` 1 for real, 0 for
    fake.

    Args:
        logits (Tensor): (B, 1, h, w) PatchGAN outputs (any shape works).
        target_is_real (bool): compare with 1 (real) or 0 (fake).
        gan_mode (str): 'lsgan' or 'vanilla'.

    Returns:
        Tensor: scalar.
    """
    target = torch.full_like(logits, 1.0 if target_is_real else 0.0)
    if gan_mode == 'lsgan':
        return F.mse_loss(logits, target)
    if gan_mode == 'vanilla':
        return F.binary_cross_entropy_with_logits(logits, target)
    raise ValueError(f'gan_mode must be one of {GAN_MODES}, got {gan_mode!r}')


@MODELS.register_module()
class GANLoss(nn.Module):
    """Module form of :func:`gan_loss`.

    Args:
        gan_mode (str): 'lsgan' or 'vanilla'.
        loss_weight (float): λ_GAN.
    """

    def __init__(self, gan_mode: str = 'lsgan', loss_weight: float = 1.0) -> None:
        super().__init__()
        if gan_mode not in GAN_MODES:
            raise ValueError(f'GANLoss: gan_mode must be one of {GAN_MODES}, got {gan_mode!r}')
        self.gan_mode = gan_mode
        self.loss_weight = loss_weight

    def forward(self, logits: Tensor, target_is_real: bool) -> Tensor:
        return self.loss_weight * gan_loss(logits, target_is_real, self.gan_mode)
