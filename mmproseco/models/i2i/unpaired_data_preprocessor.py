"""Batch the two domains of an unpaired sample into normalised tensors."""
from typing import Optional, Sequence

from mmengine.model import ImgDataPreprocessor

from mmdet.registry import MODELS


@MODELS.register_module()
class UnpairedI2IDataPreprocessor(ImgDataPreprocessor):
    """Apply mmengine's :class:`ImgDataPreprocessor` to each domain of ``data['inputs']``.

    Input: ``dict(inputs=dict(source=[CHW uint8, ...], target=[...]), data_samples=...)`` as
    collated from :class:`UnpairedDomainDataset`. Output: the same keys with (B, 3, H, W) float
    tensors. The defaults map BGR uint8 to RGB in [-1, 1], the generator's range.
    """

    def __init__(self,
                 mean: Optional[Sequence[float]] = (127.5, 127.5, 127.5),
                 std: Optional[Sequence[float]] = (127.5, 127.5, 127.5),
                 bgr_to_rgb: bool = True,
                 **kwargs) -> None:
        super().__init__(mean=mean, std=std, bgr_to_rgb=bgr_to_rgb, **kwargs)

    def forward(self, data: dict, training: bool = False) -> dict:
        inputs = data['inputs']
        if not isinstance(inputs, dict):
            raise TypeError('UnpairedI2IDataPreprocessor expects data["inputs"] to be a dict of '
                            'domains (use UnpairedDomainDataset), got '
                            f'{type(inputs).__name__}')
        batched = {
            domain: super(UnpairedI2IDataPreprocessor, self).forward(
                dict(inputs=images), training)['inputs']
            for domain, images in inputs.items()
        }
        return dict(inputs=batched, data_samples=data.get('data_samples'))
