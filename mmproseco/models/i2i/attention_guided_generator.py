"""Attention-guided generator G = (E_B, G_C, G_A) of the local-global I2I paper (Eq. 2)."""
from typing import Dict

import torch
import torch.nn.functional as F
from mmdet.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor

from .resnet_encoder import ResnetEncoder
from .upsampling_decoder import UpsamplingDecoder


def pad_to_multiple(x: Tensor, divisor: int = 4) -> Tensor:
    """Reflect-pad (B, C, H, W) at the bottom/right so H and W are multiples of ``divisor``."""
    pad_h, pad_w = -x.shape[-2] % divisor, -x.shape[-1] % divisor
    return F.pad(x, (0, pad_w, 0, pad_h), mode='reflect') if pad_h or pad_w else x


def compose_translation(content: Tensor, attention: Tensor, image: Tensor) -> Tensor:
    """``G(x) = Σ_t C_t ⊙ A_t + x ⊙ A_{n+1}``.

    Args:
        content (Tensor): (B, n, 3, H, W) content maps in [-1, 1].
        attention (Tensor): (B, n + 1, H, W) attention maps summing to 1 over dim 1; the last map
            weighs the input image (background).
        image (Tensor): (B, 3, H, W) input.

    Returns:
        Tensor: (B, 3, H, W).
    """
    foreground = (content * attention[:, :-1, None]).sum(dim=1)
    return foreground + image * attention[:, -1:]


@MODELS.register_module()
class AttentionGuidedGenerator(BaseModule):
    """Shared ResNet encoder E_B with a content decoder G_C (n RGB maps, tanh) and an attention
    decoder G_A (n + 1 maps, softmax over maps).

    With ``use_attention=False`` G_A is not built and G_C gives the image directly (3 maps, tanh):
    this is CUT's ResNet generator, used for the CUT baseline with the same code.

    Inputs of any size are reflect-padded to a multiple of 4 and the output is cropped back, so the
    output always has the input's shape.

    Args:
        in_channels (int): image channels.
        base_channels (int): encoder stem width (64).
        num_blocks (int): encoder residual blocks (9 = ResNet-9).
        num_content_maps (int): n (9 in the paper).
        use_attention (bool): build G_A and compose with Eq. 2.
        attention_kernel_size (int): kernel of the last G_A conv (paper 7, AttentionGAN 1).
    """

    def __init__(self,
                 in_channels: int = 3,
                 base_channels: int = 64,
                 num_blocks: int = 9,
                 num_content_maps: int = 9,
                 use_attention: bool = True,
                 attention_kernel_size: int = 7,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_content_maps < 1:
            raise ValueError(f'num_content_maps must be >= 1, got {num_content_maps}')
        self.in_channels = in_channels
        self.num_content_maps = num_content_maps if use_attention else 1
        self.use_attention = use_attention
        self.encoder = ResnetEncoder(in_channels, base_channels, num_blocks)
        widths = (2 * base_channels, base_channels)
        self.content_generator = UpsamplingDecoder(self.encoder.out_channels, widths,
                                                   self.num_content_maps * in_channels)
        self.attention_generator = (
            UpsamplingDecoder(self.encoder.out_channels, widths, num_content_maps + 1,
                              attention_kernel_size) if use_attention else None)

    def forward(self, x: Tensor) -> Dict[str, object]:
        """Translate ``x`` (B, 3, H, W) in [-1, 1].

        Returns:
            dict: ``output`` (B, 3, H, W); ``encoder_feats`` (list, see :class:`ResnetEncoder`, on
            the padded input); with attention also ``content`` (B, n, 3, H, W), ``attention``
            (B, n + 1, H, W) and ``attention_feats`` (G_A layer outputs, the last pre-softmax).
        """
        height, width = x.shape[-2:]
        encoder_feats = self.encoder(pad_to_multiple(x, 4))
        code = encoder_feats[-1]
        content = torch.tanh(self.content_generator(code)[-1])
        content = content[..., :height, :width].unflatten(1, (self.num_content_maps,
                                                              self.in_channels))
        results = dict(encoder_feats=encoder_feats)
        if not self.use_attention:
            results['output'] = content[:, 0]
            return results
        attention_feats = self.attention_generator(code)
        attention = attention_feats[-1][..., :height, :width].softmax(dim=1)
        results.update(
            output=compose_translation(content, attention, x),
            content=content,
            attention=attention,
            attention_feats=attention_feats)
        return results
