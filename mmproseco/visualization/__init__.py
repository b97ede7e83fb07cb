
from .embedding_plots import plot_embedding_map, plot_roc_curves  # noqa: F401
from .translation_grid import plot_loss_curves, plot_translation_grid  # noqa: F401
