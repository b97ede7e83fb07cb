"""ResNet with the CIFAR stem, for small inputs such as 32-64 px object crops."""
import torch.nn as nn
from mmcv.cnn import build_conv_layer, build_norm_layer
from mmdet.models.backbones import ResNet
from mmdet.registry import MODELS


@MODELS.register_module()
class CifarResNet(ResNet):
    """mmdet's :class:`ResNet` whose stem is one 3x3 stride-1 conv and no max-pool.

    The ImageNet stem (7x7 stride-2 conv + max-pool) shrinks a 64 px crop to 16 px before the
    first stage; SupCon and RINCE use this stem instead (mmpretrain's ``ResNet_CIFAR``). All
    other arguments are :class:`mmdet.models.backbones.ResNet`'s. Training from scratch needs
    ``norm_eval=False`` (mmdet's default ``True`` freezes the BN statistics).
    """

    def __init__(self, *args, deep_stem: bool = False, **kwargs) -> None:
        if deep_stem:
            raise ValueError('CifarResNet has its own stem; deep_stem must be False')
        super().__init__(*args, deep_stem=False, **kwargs)

    def _make_stem_layer(self, in_channels: int, stem_channels: int) -> None:
        self.conv1 = build_conv_layer(
            self.conv_cfg, in_channels, stem_channels, kernel_size=3, stride=1, padding=1,
            bias=False)
        self.norm1_name, norm1 = build_norm_layer(self.norm_cfg, stem_channels, postfix=1)
        self.add_module(self.norm1_name, norm1)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.Identity()
