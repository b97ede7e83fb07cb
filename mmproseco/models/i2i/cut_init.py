"""CUT's weight initialisation of the translator's networks, as an mmengine ``init_cfg``."""
from typing import List, Union


def cut_init_cfg(layer: Union[str, List[str]]) -> dict:
    """Xavier-normal with gain 0.02 and zero bias on ``layer`` types (CUT's ``init_type='xavier'``,
    ``init_gain=0.02``); norms have no affine parameters and keep nothing to initialise."""
    return dict(type='Xavier', gain=0.02, distribution='normal', bias=0, layer=layer)
