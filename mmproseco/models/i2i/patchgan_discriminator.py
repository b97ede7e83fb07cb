"""PatchGAN discriminator (CUT's ``NLayerDiscriminator``)."""
from mmdet.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor, nn

from .cut_init import cut_init_cfg


@MODELS.register_module()
class PatchGANDiscriminator(BaseModule):
    """``c{C}-s2-k4`` (no norm), ``num_layers − 1`` more ``s2-k4`` convs doubling the width
    (max 8C), a ``s1-k4`` conv, then a 1-channel ``s1-k4`` conv; InstanceNorm and LeakyReLU(0.2)
    between.

    Output: (B, 1, ≈H/2**num_layers − 2, ≈W/2**num_layers − 2) real/fake logits, one per patch.

    Args:
        in_channels (int): image channels.
        base_channels (int): C (64).
        num_layers (int): stride-2 convs (3 in the paper).
    """

    def __init__(self, in_channels: int = 3, base_channels: int = 64, num_layers: int = 3,
                 init_cfg=cut_init_cfg('Conv2d')) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_layers < 1:
            raise ValueError(f'PatchGANDiscriminator: num_layers must be >= 1, got {num_layers}')
        layers = [nn.Conv2d(in_channels, base_channels, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        width = base_channels
        for n in range(1, num_layers + 1):
            next_width = base_channels * min(2**n, 8)
            stride = 2 if n < num_layers else 1
            layers += [
                nn.Conv2d(width, next_width, 4, stride, 1),
                nn.InstanceNorm2d(next_width),
                nn.LeakyReLU(0.2, True)
            ]
            width = next_width
        layers.append(nn.Conv2d(width, 1, 4, 1, 1))
        self.model = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)
