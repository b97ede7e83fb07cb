from .attention_guided_generator import AttentionGuidedGenerator, compose_translation  # noqa: F401
from .attention_i2i_adapter import AttentionI2IAdapter  # noqa: F401
from .contrastive_views import ContrastiveViews, jigsaw_patches  # noqa: F401
from .i2i_optim_wrapper_constructor import I2IOptimWrapperConstructor  # noqa: F401
from .local_global_projector import LocalGlobalProjector  # noqa: F401
from .patch_sampler import PatchSampleMLP  # noqa: F401
from .patchgan_discriminator import PatchGANDiscriminator  # noqa: F401
from .resnet_encoder import ResnetEncoder  # noqa: F401
from .unpaired_data_preprocessor import UnpairedI2IDataPreprocessor  # noqa: F401
