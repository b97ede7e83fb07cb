"""PNG figures of the crop embedders: ROC curves and a 2-D t-SNE map of the embeddings."""
from typing import Dict, Optional, Sequence, Tuple

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def figure_to_array(fig) -> np.ndarray:
    """Render a matplotlib figure to an RGB ``(H, W, 3)`` uint8 array and close it."""
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return image


def plot_roc_curves(curves: Dict[str, Tuple[np.ndarray, np.ndarray, float]],
                    title: str = 'OOD detection ROC') -> np.ndarray:
    """ROC curves, one per score.

    Args:
        curves (dict[str, tuple]): Score name to ``(fpr, tpr, auroc)``.
        title (str): Figure title.

    Returns:
        np.ndarray: RGB image.
    """
    fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
    for name, (fpr, tpr, auroc) in curves.items():
        ax.plot(fpr, tpr, label=f'{name} (AUROC {auroc:.3f})')
    ax.plot([0, 1], [0, 1], color='gray', linestyle='--', linewidth=0.8)
    ax.set(xlabel='false positive rate (OOD taken as in-distribution)',
           ylabel='true positive rate (in-distribution kept)', title=title,
           xlim=(0, 1), ylim=(0, 1.01))
    ax.legend(loc='lower right', fontsize=8)
    fig.tight_layout()
    return figure_to_array(fig)


def tsne_embedding(embeddings: np.ndarray, seed: int = 0) -> np.ndarray:
    """``(n, d)`` embeddings to ``(n, 2)`` t-SNE coordinates (cosine distance)."""
    from sklearn.manifold import TSNE
    perplexity = float(min(30, max(2, (len(embeddings) - 1) // 3)))
    return TSNE(n_components=2, metric='cosine', init='pca', perplexity=perplexity,
                random_state=seed).fit_transform(embeddings)


def plot_embedding_map(points: np.ndarray,
                       labels: np.ndarray,
                       class_names: Sequence[str],
                       ood_labels: Sequence[int] = (),
                       title: Optional[str] = None) -> np.ndarray:
    """Scatter plot of 2-D points coloured by class; withheld (OOD) classes drawn as crosses.

    Args:
        points (np.ndarray): ``(n, 2)`` coordinates, e.g. from :func:`tsne_embedding`.
        labels (np.ndarray): ``(n,)`` class ids.
        class_names (Sequence[str]): Names indexed by class id.
        ood_labels (Sequence[int]): Class ids to mark as withheld.
        title (str, optional): Figure title.

    Returns:
        np.ndarray: RGB image.
    """
    fig, ax = plt.subplots(figsize=(6, 6), dpi=100)
    cmap = plt.get_cmap('tab20')
    for label in np.unique(labels):
        keep = labels == label
        name = class_names[label] if label < len(class_names) else str(label)
        is_ood = int(label) in set(ood_labels)
        ax.scatter(points[keep, 0], points[keep, 1], s=8 if not is_ood else 14,
                   marker='x' if is_ood else 'o', color=cmap(int(label) % 20),
                   label=f'{name} (withheld)' if is_ood else name, alpha=0.7)
    ax.set(xticks=[], yticks=[], title=title or 't-SNE of crop embeddings')
    ax.legend(loc='best', fontsize=7, markerscale=1.5)
    fig.tight_layout()
    return figure_to_array(fig)
