"""A frozen detector behind an image-to-image adapter."""
import os
import os.path as osp
import re
from typing import List, Optional, Sequence, Union

from mmdet.models.detectors import BaseDetector
from mmdet.registry import MODELS
from mmdet.structures import OptSampleList, SampleList
from mmengine.config import Config
from mmengine.hub import get_config
from mmengine.model import BaseModule
from mmengine.runner import CheckpointLoader
from torch import Tensor


def load_detector_config(path: str) -> dict:
    """The ``model`` of the config file ``path``.

    Resolved as mmengine resolves configs: ``package::relative/path.py`` (e.g.
    ``mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py``) through :func:`mmengine.hub.get_config`,
    any other path as a file (absolute, or from the working directory). The shipped configs name
    their detector relative to themselves with mmengine's ``{{ fileDirname }}``, so they work
    from any working directory.
    """
    if '::' in path:
        return get_config(path).model
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'detector config {path!r} not found (working directory {os.getcwd()}): give an '
            "absolute path, one relative to the config ('{{ fileDirname }}/...') or "
            "'package::path'")
    return Config.fromfile(path).model


def load_module_weights(module: BaseModule, filename: str, prefix: str = '') -> None:
    """Load a checkpoint into ``module`` strictly and mark it initialised.

    Accepts a checkpoint of the module itself, or of a model holding it under ``prefix`` (e.g. an
    ``AdaptedDetector`` checkpoint holds the adapter under ``adapter.``).
    """
    checkpoint = CheckpointLoader.load_checkpoint(filename, map_location='cpu')
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
    mmdet's test loop, ``CocoMetric`` and ``DetInferencer`` work unchanged. The detector never
    trains: its parameters have ``requires_grad=False``, it stays in eval mode, and only the
    adapter's optimisers exist. ``train_step`` trains the adapter (its own data format and
    ``OptimWrapperDict``), so a config with this model, an unpaired train set and a detection val
    set monitors detection quality of the translations while the adapter trains.

    Data flow: this model's preprocessor gives raw float pixels in the loader's (BGR) order,
    without normalisation or size padding. Each image is cut to its ``img_shape``, translated
    alone (so neither padding nor the other images of the batch enter the generator's
    InstanceNorm statistics) and rounded to 8-bit pixel values; the detector's own data
    preprocessor then converts, normalises and pads the translations exactly as it does raw
    images, so padding is added after translation.

    Args:
        detector (dict | str): detector model config (e.g. Faster R-CNN), or the config file that
            trained it (its ``model`` is used; see :func:`load_detector_config`).
        adapter (dict): :class:`AttentionI2IAdapter` config.
        detector_checkpoint (str, optional): detector weights, loaded at build time (like
            mmdet's distillation teachers).
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
                 data_preprocessor: dict = dict(type='DetDataPreprocessor', bgr_to_rgb=False),
                 init_cfg=None) -> None:
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        # ImgDataPreprocessor registers mean/std buffers only when it normalises
        if getattr(self.data_preprocessor, 'mean', None) is not None:
            raise ValueError('AdaptedDetector: data_preprocessor must not normalise (leave mean '
                             'and std unset); the adapter and the detector normalise their own '
                             'inputs')
        if isinstance(detector, str):
            detector = load_detector_config(detector)
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

    def adapt_pixels(self,
                     inputs: Union[Tensor, Sequence[Tensor]],
                     data_samples: OptSampleList = None) -> List[Tensor]:
        """Translate every image inside its ``img_shape``.

        Args:
            inputs (Tensor | Sequence[Tensor]): (B, 3, H, W) raw pixels in loader order, possibly
                padded, or B tensors (3, H_i, W_i).
            data_samples (list[DetDataSample], optional): their ``img_shape`` (the extent of each
                image in ``inputs``); None takes every image whole.

        Returns:
            list[Tensor]: B (3, h_i, w_i) raw pixels in loader order: the translations, with
            8-bit values, or the input images themselves when ``translate`` is False.
        """
        if data_samples is None:
            images = list(inputs)
        else:
            images = [image[:, :sample.img_shape[0], :sample.img_shape[1]]
                      for image, sample in zip(inputs, data_samples)]
        if not self.translate:
            return images
        adapter_pre = self.adapter.data_preprocessor
        return [
            adapter_pre.to_pixels(self.adapter.translate(adapter_pre.normalize(image[None])))[0]
            for image in images
        ]

    def _detector_batch(self, inputs, data_samples: OptSampleList = None) -> dict:
        """The (translated) images padded and normalised by the detector's own preprocessor."""
        return self.detector.data_preprocessor(
            dict(inputs=self.adapt_pixels(inputs, data_samples), data_samples=data_samples),
            False)

    def extract_feat(self, batch_inputs: Tensor):
        return self.detector.extract_feat(self._detector_batch(batch_inputs)['inputs'])

    def predict(self, batch_inputs: Tensor, batch_data_samples: SampleList,
                rescale: bool = True) -> SampleList:
        batch = self._detector_batch(batch_inputs, batch_data_samples)
        return self.detector.predict(batch['inputs'], batch['data_samples'], rescale=rescale)

    def _forward(self, batch_inputs: Tensor, batch_data_samples: OptSampleList = None):
        batch = self._detector_batch(batch_inputs, batch_data_samples)
        return self.detector(batch['inputs'], batch['data_samples'], mode='tensor')

    def loss(self, batch_inputs: Tensor, batch_data_samples: SampleList) -> Union[dict, list]:
        raise RuntimeError('AdaptedDetector has no detection loss: the detector is frozen. Train '
                           'the adapter through train_step (the runner does) with unpaired data.')
