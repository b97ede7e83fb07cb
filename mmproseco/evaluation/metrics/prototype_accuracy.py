"""Nearest-class-prototype accuracy of object-crop embeddings."""
from typing import Dict, Optional, Tuple

import numpy as np
from mmdet.registry import METRICS

from mmproseco.visualization.embedding_plots import plot_embedding_map, tsne_embedding
from .crop_embedding_metric import CropEmbeddingMetric


def l2_normalize(x: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Rows of ``(n, d)`` scaled to unit length."""
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), eps)


def class_prototypes(embeddings: np.ndarray, labels: np.ndarray,
                     num_classes: int) -> Tuple[np.ndarray, np.ndarray]:
    """Unit mean embedding of every class.

    Args:
        embeddings (np.ndarray): ``(n, d)`` embeddings (normalised or not).
        labels (np.ndarray): ``(n,)`` class ids.
        num_classes (int): ``C``.

    Returns:
        tuple: ``(C, d)`` prototypes (zero rows for absent classes) and ``(C,)`` bool presence.
    """
    sums = np.zeros((num_classes, embeddings.shape[1]))
    np.add.at(sums, labels, l2_normalize(embeddings))
    present = np.bincount(labels, minlength=num_classes) > 0
    return l2_normalize(sums) * present[:, None], present


def prototype_cosines(embeddings: np.ndarray, prototypes: np.ndarray,
                      present: np.ndarray) -> np.ndarray:
    """``(n, C')`` cosine similarity to the ``C'`` present prototypes (columns in class order)."""
    return l2_normalize(embeddings) @ prototypes[present].T


def nearest_prototype(embeddings: np.ndarray, prototypes: np.ndarray,
                      present: np.ndarray) -> np.ndarray:
    """``(n,)`` class id of the most cosine-similar present prototype."""
    return np.flatnonzero(present)[prototype_cosines(embeddings, prototypes, present).argmax(1)]


@METRICS.register_module()
class PrototypeAccuracy(CropEmbeddingMetric):
    """Top-1 accuracy of the nearest class prototype, by cosine similarity.

    Prototypes are the normalised class means of the ``'prototype'`` crops' embeddings (the
    training crops, no augmentation, model in eval mode). Query crops of classes without a
    prototype (the withheld classes) are left out.

    Output keys: ``proto/accuracy``, ``proto/mean_class_accuracy``.

    Args:
        tsne (bool): Also draw a t-SNE map of the query embeddings, coloured by class, as
            ``tsne_embeddings.png``. Default False (it takes seconds; enable it for test).
        tsne_max_points (int): Subsample the query crops to at most this many for t-SNE.
        out_dir (str, optional): Folder that also receives the PNG.
        collect_device, prefix: See :class:`mmengine.evaluator.BaseMetric`.
    """

    default_prefix = 'proto'

    def __init__(self,
                 tsne: bool = False,
                 tsne_max_points: int = 2000,
                 out_dir: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(out_dir=out_dir, collect_device=collect_device, prefix=prefix)
        if tsne_max_points < 10:
            raise ValueError(f'tsne_max_points must be >= 10, got {tsne_max_points}')
        self.tsne = tsne
        self.tsne_max_points = tsne_max_points

    def compute_from_sets(self, prototype: dict, query: dict) -> Dict[str, float]:
        num_classes = int(max(prototype['labels'].max(), query['labels'].max())) + 1
        prototypes, present = class_prototypes(prototype['embeddings'], prototype['labels'],
                                               num_classes)
        known = present[query['labels']]
        if not known.any():
            raise ValueError('no query crop belongs to a class with prototypes')
        labels = query['labels'][known]
        correct = nearest_prototype(query['embeddings'][known], prototypes, present) == labels
        per_class = [correct[labels == c].mean() for c in np.unique(labels)]
        if self.tsne:
            self._draw_tsne(query, np.flatnonzero(~present))
        return dict(accuracy=float(correct.mean()), mean_class_accuracy=float(np.mean(per_class)))

    def _draw_tsne(self, query: dict, ood_labels: np.ndarray) -> None:
        rng = np.random.default_rng(0)
        count = len(query['labels'])
        keep = np.sort(rng.choice(count, min(count, self.tsne_max_points), replace=False))
        points = tsne_embedding(query['embeddings'][keep])
        self.save_figure('tsne_embeddings', plot_embedding_map(
            points, query['labels'][keep], self.class_names, ood_labels.tolist()))
