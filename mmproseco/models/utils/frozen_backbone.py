"""A frozen backbone must start from weights: a frozen random network only adds noise."""
from typing import Optional


def check_frozen_backbone_has_weights(init_cfg: Optional[dict], freeze_option: str,
                                      backbone_key: str) -> None:
    """Raise at build time when a backbone that will never train has no checkpoint.

    Nothing is downloaded here, so every shipped config has ``init_cfg=None``; a config
    that freezes its backbone (the paper-size ProSeCo and DETReg, as the papers freeze an
    ImageNet ResNet-50) would otherwise pretrain on a frozen random ResNet without error.

    Args:
        init_cfg (dict, optional): the backbone's ``init_cfg``.
        freeze_option (str): the config key that freezes it, e.g. ``model.freeze_backbone``.
        backbone_key (str): where the backbone sits in the config, e.g.
            ``model.detector.backbone``.
    """
    if init_cfg is None:
        init = f'{backbone_key}.init_cfg'
        raise ValueError(
            f'{freeze_option} freezes the backbone {backbone_key}, whose init_cfg is None: '
            'random weights that would never train. Give it weights with --cfg-options '
            f'{init}._delete_=True {init}.type=Pretrained {init}.checkpoint=PATH, '
            f'or let it train by turning {freeze_option} off.')
