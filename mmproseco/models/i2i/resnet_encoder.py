"""ResNet encoder E_B of the attention-guided translator (CUT / AttentionGAN ``resnet_9blocks``)."""
from typing import List

import torch
from mmdet.registry import MODELS
from mmengine.model import BaseModule
from torch import nn

from .cut_init import cut_init_cfg


class ResnetBlock(nn.Module):
    """Residual block ``x + conv-IN-ReLU-conv-IN(x)`` with reflect padding."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), nn.InstanceNorm2d(channels),
            nn.ReLU(inplace=True), nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3),
            nn.InstanceNorm2d(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


@MODELS.register_module()
class ResnetEncoder(BaseModule):
    """E_B: ``c{C}-s1-k7``, two ``s2-k3`` down-convolutions, ``num_blocks`` residual blocks.

    The paper writes the first conv with stride 2, which the two ×2 decoders cannot undo; stride 1
    is used, as in CUT and AttentionGAN. Every conv is followed by InstanceNorm + ReLU.

    The forward pass returns every stage, which the PatchNCE and local-global losses tap by index:
    ``0`` input (3×H×W), ``1`` stem (C×H×W), ``2`` down1 (2C×H/2), ``3`` down2 (4C×H/4), ``3 + k``
    residual block ``k`` (4C×H/4); the last entry is the code m_E fed to the decoders.

    Args:
        in_channels (int): image channels.
        base_channels (int): C, the stem width (64 in the paper).
        num_blocks (int): residual blocks (9 in the paper).
    """

    def __init__(self,
                 in_channels: int = 3,
                 base_channels: int = 64,
                 num_blocks: int = 9,
                 init_cfg=cut_init_cfg('Conv2d')) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_blocks < 1:
            raise ValueError(f'ResnetEncoder: num_blocks must be >= 1, got {num_blocks}')
        c = base_channels
        self.stages = nn.ModuleList([
            nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(in_channels, c, 7), nn.InstanceNorm2d(c),
                          nn.ReLU(inplace=True)),
            nn.Sequential(nn.Conv2d(c, 2 * c, 3, stride=2, padding=1), nn.InstanceNorm2d(2 * c),
                          nn.ReLU(inplace=True)),
            nn.Sequential(nn.Conv2d(2 * c, 4 * c, 3, stride=2, padding=1), nn.InstanceNorm2d(4 * c),
                          nn.ReLU(inplace=True)),
            *[ResnetBlock(4 * c) for _ in range(num_blocks)]
        ])
        self.stage_channels = [in_channels, c, 2 * c] + [4 * c] * (num_blocks + 1)
        self.out_channels = 4 * c

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        """(B, 3, H, W) with H, W multiples of 4 → list of stage outputs (see class docstring)."""
        feats = [x]
        for stage in self.stages:
            feats.append(stage(feats[-1]))
        return feats
