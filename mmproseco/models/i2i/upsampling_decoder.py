"""Decoder shared by the content generator G_C and the attention generator G_A."""
from typing import List, Sequence

import torch
from mmengine.model import BaseModule
from torch import nn

from .cut_init import cut_init_cfg


class UpsamplingDecoder(BaseModule):
    """Transposed convs ``k3-s2`` (+ IN + ReLU) then a stride-1 conv to ``out_channels`` (no norm).

    The paper lists the first transposed conv as k7; AttentionGAN (whose decoders these are) uses
    k3, which keeps the ×2 output size exact with ``padding=1, output_padding=1``.

    Args:
        in_channels (int): channels of the encoder code m_E.
        channels (Sequence[int]): widths of the upsampling layers (128, 64 in the paper).
        out_channels (int): output maps.
        final_kernel_size (int): odd kernel of the last conv (reflect-padded).
    """

    def __init__(self,
                 in_channels: int,
                 channels: Sequence[int],
                 out_channels: int,
                 final_kernel_size: int = 7,
                 init_cfg=cut_init_cfg(['Conv2d', 'ConvTranspose2d'])) -> None:
        super().__init__(init_cfg=init_cfg)
        if final_kernel_size % 2 != 1:
            raise ValueError(f'final_kernel_size must be odd, got {final_kernel_size}')
        layers = []
        for width in channels:
            layers.append(
                nn.Sequential(
                    nn.ConvTranspose2d(in_channels, width, 3, stride=2, padding=1,
                                       output_padding=1),
                    nn.InstanceNorm2d(width), nn.ReLU(inplace=True)))
            in_channels = width
        layers.append(
            nn.Sequential(
                nn.ReflectionPad2d(final_kernel_size // 2),
                nn.Conv2d(in_channels, out_channels, final_kernel_size)))
        self.layers = nn.ModuleList(layers)
        self.layer_channels = [*channels, out_channels]

    def forward(self, code: torch.Tensor) -> List[torch.Tensor]:
        """(B, C_in, h, w) → outputs of every layer; the last is (B, out_channels, 4h, 4w) for two
        upsampling layers."""
        feats = []
        x = code
        for layer in self.layers:
            x = layer(x)
            feats.append(x)
        return feats
