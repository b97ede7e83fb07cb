"""Build the generator and discriminator optimisers of an I2I model as an ``OptimWrapperDict``."""
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapperDict
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS
from torch import nn


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class I2IOptimWrapperConstructor:
    """One optim wrapper per parameter group that the model names in ``optim_param_groups()``.

    mmengine's runner builds several optimisers only through a constructor; this one asks the model
    which modules each optimiser owns, so auxiliary heads (PatchNCE MLPs, projection heads) join the
    generator's optimiser and frozen parts are never handed to any optimiser.

    Config::

        optim_wrapper = dict(
            constructor='I2IOptimWrapperConstructor',
            generator=dict(optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.99))),
            discriminator=dict(optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.99))))
    """

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg=None) -> None:
        if paramwise_cfg is not None:
            raise ValueError('I2IOptimWrapperConstructor: put paramwise_cfg inside each of '
                             f'{sorted(optim_wrapper_cfg)}, not at the top level')
        self.optim_wrapper_cfg = optim_wrapper_cfg

    def __call__(self, model: nn.Module) -> OptimWrapperDict:
        if hasattr(model, 'module'):  # DDP wrapper
            model = model.module
        groups = model.optim_param_groups()
        if set(groups) != set(self.optim_wrapper_cfg):
            raise ValueError(f'optim_wrapper must define exactly {sorted(groups)} for '
                             f'{type(model).__name__}, got {sorted(self.optim_wrapper_cfg)}')
        wrappers = {}
        for name, module in groups.items():
            cfg = dict(self.optim_wrapper_cfg[name])
            paramwise_cfg = cfg.pop('paramwise_cfg', None)
            wrappers[name] = DefaultOptimWrapperConstructor(cfg, paramwise_cfg)(module)
        return OptimWrapperDict(**wrappers)
