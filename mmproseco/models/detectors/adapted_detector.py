"""A frozen detector behind an image-to-image adapter."""
import re
from typing import Optional, Union

from mmengine.config import Config
from mmengine.model import BaseModule
from mmengine.runner.checkpoint import _load_checkpoint
from torch import Tensor

from mmdet.models.detectors import BaseDetector
from mmdet.registry import MODELS
from mmdet.structures import OptSampleList, SampleList


def load_module_weights(module: BaseModule, filename: str, prefix: str = '') -> None:
    """Load a checkpoint into ``module`` strictly and mark it initialised.

    Accepts a checkpoint of the module itself, or of a model holding it under ``prefix`` (e.g. an
    ``AdaptedDetector`` checkpoint holds the adapter under ``adapter.``).
    """
    checkpoint = _load_checkpoint(filename, map_location='cpu')
    state = checkpoint.get('state_dict', checkpoint)
    state = {re.sub(r'^module\.', '', k): v for k, v in state.items()}
    if prefix and any(k.startswith(prefix) for k in state):
        state = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    missing, unexpected = module.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(f'{filename} does not match the configured {type(module).__name__}: '
                         f'missing keys {missing[:5]}..., unexpected keys {unexpected[:5]}...; '
                         'check that the config describes the model that wrote the checkpoint')
    # The runner calls init_weights() before training; loaded weights must survive it.
    module.is_init = True


@MODELS.register_module()
class AdaptedDetector(BaseDetector):
    """Translate with an I2I adapter, then detect with a frozen detector.

    In evaluation ``predict`` returns the detector's own predictions on the translations, so
    mmdet's test loop and ``CocoMetric`` work unchanged. The detector never trains: its parameters
    have ``requires_grad=False``, it stays in eval mode, and only the adapter's optimisers exist.
    ``train_step`` trains the adapter (its own data format and ``OptimWrapperDict``), so a config
    with this model, an unpaired train set and a detection val set monitors detection quality of
    the translations while the adapter trains.

    Data flow: this model's preprocessor gives raw float pixels in the loader's (BGR) order; they
    are normalised the adapter's way, translated, mapped back to pixels and normalised the
    detector's way.

    Args:
        detector (dict | str): detector model config (e.g. Faster R-CNN), or the path of the
            config file that trained it (its ``model`` is used).
        adapter (dict): :class:`AttentionI2IAdapter` config.
        detector_checkpoint (str, optional): detector weights, loaded at build time.
        adapter_checkpoint (str, optional): adapter weights (an adapter or ``AdaptedDetector``
            checkpoint), loaded at build time.
        translate (bool): False skips the adapter (the "Source" row with the same code).
        data_preprocessor (dict): must give raw pixels (no normalisation).
    """

    def __init__(self,
                 detector: Union[dict, str],
                 adapter: dict,
                 detector_checkpoint: Optional[str] = None,
                 adapter_checkpoint: Optional[str] = None,
                 translate: bool = True,
                 data_preprocessor: dict = dict(
                     type='DetDataPreprocessor', bgr_to_rgb=False, pad_size_divisor=32),
                 init_cfg=None) -> None:
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if getattr(self.data_preprocessor, '_enable_normalize', False):
            raise ValueError('AdaptedDetector: data_preprocessor must not normalise (leave mean '
                             'and std unset); the adapter and the detector normalise their own '
                             'inputs')
        if isinstance(detector, str):
            detector = Config.fromfile(detector)['model']
        self.detector = MODELS.build(detector)
        self.adapter = MODELS.build(adapter)
        self.translate = translate
        if detector_checkpoint is not None:
            load_module_weights(self.detector, detector_checkpoint, prefix='detector.')
        if adapter_checkpoint is not None:
            load_module_weights(self.adapter, adapter_checkpoint, prefix='adapter.')
        self.detector.requires_grad_(False)
        self.detector.eval()

    def train(self, mode: bool = True) -> 'AdaptedDetector':
        super().train(mode)
        self.detector.eval()
        return self

    def optim_param_groups(self) -> dict:
        """Only the adapter's modules get optimisers; the detector gets none."""
        return self.adapter.optim_param_groups()

    def train_step(self, data: dict, optim_wrapper) -> dict:
        return self.adapter.train_step(data, optim_wrapper)

    def adapt_pixels(self, pixels: Tensor) -> Tensor:
        """(B, 3, H, W) raw pixels in loader order → the adapter's translation as raw pixels in the
        same order; unchanged when ``translate`` is False."""
        if not self.translate:
            return pixels
        adapter_pre = self.adapter.data_preprocessor
        order = [2, 1, 0] if adapter_pre._channel_conversion else [0, 1, 2]
        translated = self.adapter.translate((pixels[:, order] - adapter_pre.mean) / adapter_pre.std)
        return (translated * adapter_pre.std + adapter_pre.mean)[:, order].clamp(0, 255)

    def _to_detector_input(self, pixels: Tensor) -> Tensor:
        """Raw pixels → (translated) pixels normalised the detector's way."""
        pixels = self.adapt_pixels(pixels)
        detector_pre = self.detector.data_preprocessor
        if detector_pre._channel_conversion:
            pixels = pixels[:, [2, 1, 0]]
        if detector_pre._enable_normalize:
            pixels = (pixels - detector_pre.mean) / detector_pre.std
        return pixels

    def extract_feat(self, batch_inputs: Tensor):
        return self.detector.extract_feat(self._to_detector_input(batch_inputs))

    def predict(self, batch_inputs: Tensor, batch_data_samples: SampleList,
                rescale: bool = True) -> SampleList:
        return self.detector.predict(
            self._to_detector_input(batch_inputs), batch_data_samples, rescale=rescale)

    def _forward(self, batch_inputs: Tensor, batch_data_samples: OptSampleList = None):
        return self.detector._forward(self._to_detector_input(batch_inputs), batch_data_samples)

    def loss(self, batch_inputs: Tensor, batch_data_samples: SampleList) -> Union[dict, list]:
        raise RuntimeError('AdaptedDetector has no detection loss: the detector is frozen. Train '
                           'the adapter through train_step (the runner does) with unpaired data.')
