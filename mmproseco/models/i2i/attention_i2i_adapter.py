"""Attention-guided unpaired translator target → source with PatchNCE and local-global losses."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmdet.registry import MODELS
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapperDict
from torch import Tensor, nn

from ..utils import ModulePair, MomentumModelMixin, momentum_copy
from .attention_guided_generator import pad_to_multiple

# E_B's second down-convolution (``c256-s2-k3``), the shallowest layer supervised by L_GA.
LOCAL_GLOBAL_ENCODER_STAGE = 3


def attention_features(encoder: nn.Module, attention_generator: nn.Module,
                       images: Tensor) -> List[Tensor]:
    """Features supervised by L_GA: E_B's ``c256-s2`` output, then every G_A layer (pre-softmax)."""
    encoder_feats = encoder(pad_to_multiple(images, 4))
    return [encoder_feats[LOCAL_GLOBAL_ENCODER_STAGE], *attention_generator(encoder_feats[-1])]


@MODELS.register_module()
class AttentionI2IAdapter(BaseModel, MomentumModelMixin):
    """Unpaired translator G: target → source trained with ``L_adv + L_NCE + L_GA`` (Eq. 4).

    Each term carries its loss's ``loss_weight``; the configs weigh ``L_GA`` by 0.05, which
    brings it level with PatchNCE (at 1 it is ~90 % of the generator loss; docs/i2i.md).

    The generator sees target images; the PatchGAN discriminator compares its translations with
    real source images. ``train_step`` alternates one discriminator and one generator update, each
    with its own optimiser from the :class:`OptimWrapperDict` (keys ``generator`` and
    ``discriminator``, built by ``I2IOptimWrapperConstructor``).

    The momentum copies E_Bm, G_Am (and of the projection heads) of the local-global loss are the
    model's momentum pairs, averaged after every step by :class:`TeacherEMAHook` (MoCo:
    ``momentum=0.999``, constant), which the config must add.

    Args:
        generator (dict): :class:`AttentionGuidedGenerator` config.
        discriminator (dict): :class:`PatchGANDiscriminator` config.
        gan_loss (dict): :class:`GANLoss` config (``gan_mode`` lsgan or vanilla).
        nce_loss (dict): :class:`PatchNCELoss` config.
        nce_layers (Sequence[int]): encoder stages for PatchNCE (see :class:`ResnetEncoder`).
        patch_sampler (dict): :class:`PatchSampleMLP` options (``num_patches``, ``embed_dim``).
        nce_idt (bool): add the identity term NCE(y, G(y)) on source images; both NCE terms are then
            halved, as in CUT.
        local_global (dict, optional): L_GA settings; None disables it. Keys: ``views``
            (:class:`ContrastiveViews` config), ``projector`` (:class:`LocalGlobalProjector` options
            besides ``in_channels``) and ``loss`` (:class:`LocalGlobalContrastiveLoss` config).
            The copies' momentum is the ``momentum`` of :class:`TeacherEMAHook`.
        data_preprocessor (dict): defaults to :class:`UnpairedI2IDataPreprocessor`.
    """

    def __init__(self,
                 generator: dict,
                 discriminator: dict,
                 gan_loss: dict = dict(type='GANLoss'),
                 nce_loss: dict = dict(type='PatchNCELoss'),
                 nce_layers: Sequence[int] = (0, 2, 3, 4, 8),
                 patch_sampler: dict = dict(num_patches=256, embed_dim=256),
                 nce_idt: bool = True,
                 local_global: Optional[dict] = None,
                 data_preprocessor: dict = dict(type='UnpairedI2IDataPreprocessor'),
                 init_cfg=None) -> None:
        # built from mmdet's registry, so no default scope is needed outside a runner
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.generator = MODELS.build(generator)
        self.discriminator = MODELS.build(discriminator)
        self.gan_loss = MODELS.build(gan_loss)
        self.nce_loss = MODELS.build(nce_loss)
        stage_channels = self.generator.encoder.stage_channels
        bad = [i for i in nce_layers if not 0 <= i < len(stage_channels)]
        if not nce_layers or bad:
            raise ValueError(f'nce_layers must be non-empty indices in '
                             f'[0, {len(stage_channels) - 1}]'
                             f' for this encoder, got {tuple(nce_layers)}')
        self.nce_layers = tuple(nce_layers)
        self.nce_idt = nce_idt
        self.patch_sampler = MODELS.build(
            dict(type='PatchSampleMLP', in_channels=[stage_channels[i] for i in nce_layers],
                 **patch_sampler))
        self.local_global = local_global is not None
        if self.local_global:
            self._build_local_global(dict(local_global))

    def _build_local_global(self, cfg: dict) -> None:
        if not self.generator.use_attention:
            raise ValueError('local_global needs the attention generator: set '
                             'generator.use_attention=True or local_global=None')
        if 'momentum' in cfg:
            # The momentum moved to the hook: fail rather than train with its default.
            raise ValueError(
                'local_global.momentum was removed: set the momentum (weight of the old copy) '
                "on the hook, custom_hooks=[dict(type='TeacherEMAHook', momentum=0.999, "
                "momentum_schedule='constant')]")
        self.views = MODELS.build(cfg.pop('views', dict(type='ContrastiveViews')))
        in_channels = [self.generator.encoder.stage_channels[LOCAL_GLOBAL_ENCODER_STAGE],
                       *self.generator.attention_generator.layer_channels]
        self.local_global_loss = MODELS.build(
            cfg.pop('loss', dict(type='LocalGlobalContrastiveLoss')))
        if len(self.local_global_loss.layer_weights) != len(in_channels):
            raise ValueError(f'local_global.loss.layer_weights needs {len(in_channels)} values '
                             f'(E_B c256 + {len(in_channels) - 1} G_A layers), got '
                             f'{self.local_global_loss.layer_weights}')
        self.projector = MODELS.build(
            dict(type='LocalGlobalProjector', in_channels=in_channels,
                 num_patches=self.views.grid**2, **cfg.pop('projector', {})))
        if cfg:
            raise ValueError(f'unknown local_global keys: {sorted(cfg)}')
        self.momentum_encoder = momentum_copy(self.generator.encoder)
        self.momentum_attention = momentum_copy(self.generator.attention_generator)
        self.momentum_projector = momentum_copy(self.projector)

    def momentum_pairs(self) -> List[ModulePair]:
        if not self.local_global:
            return []
        return [(self.generator.encoder, self.momentum_encoder),
                (self.generator.attention_generator, self.momentum_attention),
                (self.projector, self.momentum_projector)]

    def optim_param_groups(self) -> Dict[str, nn.Module]:
        """Modules owned by each optimiser (read by ``I2IOptimWrapperConstructor``)."""
        generator_side = [self.generator, self.patch_sampler]
        if self.local_global:
            generator_side.append(self.projector)
        return dict(generator=nn.ModuleList(generator_side), discriminator=self.discriminator)

    def translate(self, images: Tensor) -> Tensor:
        """(B, 3, H, W) target images in [-1, 1] → translations of the same shape."""
        return self.generator(images)['output']

    def forward(self, inputs: Tensor, data_samples=None, mode: str = 'tensor') -> Tensor:
        if mode != 'tensor':
            raise ValueError(f"AttentionI2IAdapter supports mode='tensor' only, got {mode!r}: it "
                             'is trained by train_step and evaluated inside AdaptedDetector')
        return self.translate(inputs)

    def _nce_losses(self, real: Tensor, results: dict, num_target: int) -> Dict[str, Tensor]:
        fake_feats = self.generator.encoder(pad_to_multiple(results['output'], 4))
        keys, patch_ids = self.patch_sampler([results['encoder_feats'][i] for i in self.nce_layers])
        queries, _ = self.patch_sampler([fake_feats[i] for i in self.nce_layers], patch_ids)
        if not self.nce_idt:
            return dict(loss_nce=self.nce_loss(queries, keys))
        target_part = slice(0, num_target)
        source_part = slice(num_target, real.shape[0])
        return dict(
            loss_nce=0.5 * self.nce_loss([q[target_part] for q in queries],
                                         [k[target_part] for k in keys]),
            loss_nce_idt=0.5 * self.nce_loss([q[source_part] for q in queries],
                                             [k[source_part] for k in keys]))

    def _local_global_losses(self, target: Tensor) -> Tuple[Dict[str, Tensor], tuple]:
        view_q, patches_q = self.views(target)
        view_k, patches_k = self.views(target)
        query = self.projector(
            attention_features(self.generator.encoder, self.generator.attention_generator, view_q),
            attention_features(self.generator.encoder, self.generator.attention_generator,
                               patches_q))
        with torch.no_grad():
            key = self.momentum_projector(
                attention_features(self.momentum_encoder, self.momentum_attention, view_k),
                attention_features(self.momentum_encoder, self.momentum_attention, patches_k))
        return self.local_global_loss(*query, *key), key

    def train_step(self, data: dict, optim_wrapper: OptimWrapperDict) -> Dict[str, Tensor]:
        """One discriminator update, then one generator update (+ the queue update)."""
        data = self.data_preprocessor(data, True)
        target, source = data['inputs']['target'], data['inputs']['source']
        g_optim, d_optim = optim_wrapper['generator'], optim_wrapper['discriminator']
        real = torch.cat([target, source]) if self.nce_idt else target
        with g_optim.optim_context(self.generator):
            results = self.generator(real)
        fake = results['output'][:target.shape[0]]

        with d_optim.optim_context(self.discriminator):
            d_losses = dict(
                loss_d_real=0.5 * self.gan_loss(self.discriminator(source), True),
                loss_d_fake=0.5 * self.gan_loss(self.discriminator(fake.detach()), False))
            d_loss, log_vars = self.parse_losses(d_losses)
        d_optim.update_params(d_loss)
        log_vars['loss_d'] = log_vars.pop('loss')

        self.discriminator.requires_grad_(False)
        with g_optim.optim_context(self.generator):
            g_losses = dict(loss_gan=self.gan_loss(self.discriminator(fake), True))
            g_losses.update(self._nce_losses(real, results, target.shape[0]))
            if self.local_global:
                lg_losses, keys = self._local_global_losses(target)
                g_losses.update(lg_losses)
            g_loss, g_log_vars = self.parse_losses(g_losses)
        g_optim.update_params(g_loss)
        self.discriminator.requires_grad_(True)
        g_log_vars['loss_g'] = g_log_vars.pop('loss')
        log_vars.update(g_log_vars)

        if self.local_global:
            self.local_global_loss.enqueue(*keys)
        return log_vars
