"""Out-of-distribution detection AUROC of object-crop embeddings, with classes withheld."""
from typing import Dict, Optional, Sequence

import numpy as np
from mmdet.registry import METRICS
from scipy.special import softmax
from sklearn.metrics import auc, roc_auc_score, roc_curve

from mmproseco.visualization.embedding_plots import plot_roc_curves
from .crop_embedding_metric import CropEmbeddingMetric
from .prototype_accuracy import class_prototypes, l2_normalize, prototype_cosines

SCORES = ('max_softmax', 'max_cosine', 'gaussian')


def max_cosine_score(embeddings: np.ndarray, prototypes: np.ndarray,
                     present: np.ndarray) -> np.ndarray:
    """``(n,)`` cosine similarity to the nearest class prototype; high means in-distribution.

    Unlike :func:`max_softmax_score` it does not depend on the other prototypes: a crop close
    to two prototypes (two merged sibling classes) scores as high as one close to a single one.
    """
    return prototype_cosines(embeddings, prototypes, present).max(axis=1)


def max_softmax_score(embeddings: np.ndarray, prototypes: np.ndarray, present: np.ndarray,
                      temperature: float = 1.0) -> np.ndarray:
    """``(n,)`` max over classes of the softmax of prototype cosines / ``temperature``.

    The original's OOD score (temperature 1); high means in-distribution. It measures how much
    the nearest prototype stands out from the others, so a crop with two high prototype
    cosines scores low.
    """
    cosines = prototype_cosines(embeddings, prototypes, present)
    return softmax(cosines / temperature, axis=1).max(axis=1)


def top2_cosine_gap(embeddings: np.ndarray, prototypes: np.ndarray,
                    present: np.ndarray) -> np.ndarray:
    """``(n,)`` cosine to the nearest prototype minus the cosine to the second nearest.

    What ``max_softmax`` responds to besides the nearest cosine: a crop between two merged
    sibling prototypes has a small gap, hence a split softmax.
    """
    cosines = np.sort(prototype_cosines(embeddings, prototypes, present), axis=1)
    return cosines[:, -1] - cosines[:, -2]


def gaussian_score(train_features: np.ndarray, train_labels: np.ndarray,
                   features: np.ndarray, reg_covar: float = 1e-4) -> np.ndarray:
    """Official RINCE score: max over classes of a per-class full-covariance Gaussian log-density.

    Args:
        train_features (np.ndarray): ``(m, c)`` features of the in-distribution training crops.
        train_labels (np.ndarray): ``(m,)`` their class ids.
        features (np.ndarray): ``(n, c)`` features to score.
        reg_covar (float): Added to the covariance diagonals (features outnumber crops).

    Returns:
        np.ndarray: ``(n,)`` scores; high means in-distribution.
    """
    from sklearn.mixture import GaussianMixture
    train_features, features = l2_normalize(train_features), l2_normalize(features)
    log_densities = []
    for label in np.unique(train_labels):
        members = train_features[train_labels == label]
        if len(members) < 2:
            continue
        gauss = GaussianMixture(1, covariance_type='full', reg_covar=reg_covar, random_state=0)
        log_densities.append(gauss.fit(members).score_samples(features))
    if not log_densities:
        raise ValueError('gaussian score: no class has two or more prototype crops')
    return np.max(log_densities, axis=0)


def sweep_auc(scores: np.ndarray, is_inlier: np.ndarray,
              thresholds: np.ndarray = np.arange(0, 0.25, 0.01)) -> float:
    """The original's coarse AUROC: trapezoid over a fixed threshold sweep (parity only)."""
    tpr = [(scores[is_inlier] > t).mean() for t in thresholds]
    fpr = [(scores[~is_inlier] > t).mean() for t in thresholds]
    return float(auc(fpr, tpr))


@METRICS.register_module()
class OODAUROC(CropEmbeddingMetric):
    """AUROC of telling the withheld classes' query crops from the others.

    In-distribution is the positive class (scikit-learn ``roc_auc_score``). Scores:

    * ``max_softmax``: max softmax over the cosines to the class prototypes (original);
    * ``max_cosine``: cosine to the nearest class prototype;
    * ``gaussian``: max per-class Gaussian log-density of the pooled backbone features, fitted
      on the prototype crops (official RINCE).

    Every score is reported against all withheld crops together and against each withheld
    class alone (the in-distribution crops are the negatives of every one): a class near a
    trained one (orange_square next to red_square) is a harder OOD set than a distant one.

    Output keys: ``ood/auroc_<score>`` (all withheld classes), ``ood/auroc_<score>/<class>``,
    with ``max_softmax`` its diagnostic ``ood/top2_gap_inlier`` and ``ood/top2_gap_withheld``
    (the mean :func:`top2_cosine_gap` of the in-distribution and of the withheld query
    crops: with inliers' gap the smaller, max-softmax ranks the withheld crops higher) and,
    with ``sweep_auc``, ``ood/sweep_auc_max_softmax``. Draws ``ood_roc.png`` (all withheld
    classes).

    Args:
        withheld_classes (Sequence[str]): The OOD classes; they must have no prototype crops.
        scores (Sequence[str]): Any of ``'max_softmax'``, ``'max_cosine'``, ``'gaussian'``.
            Default all three.
        softmax_temperature (float): Temperature of ``max_softmax``. Default 1.
        reg_covar (float): Covariance regulariser of ``gaussian``. Default 1e-4.
        sweep_auc (bool): Also report the original's 25-threshold trapezoid AUC. Default False.
        out_dir (str, optional): Folder that also receives the PNG.
        collect_device, prefix: See :class:`mmengine.evaluator.BaseMetric`.
    """

    default_prefix = 'ood'

    def __init__(self,
                 withheld_classes: Sequence[str],
                 scores: Sequence[str] = SCORES,
                 softmax_temperature: float = 1.0,
                 reg_covar: float = 1e-4,
                 sweep_auc: bool = False,
                 out_dir: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(out_dir=out_dir, collect_device=collect_device, prefix=prefix)
        if not withheld_classes:
            raise ValueError('withheld_classes must name at least one class')
        unknown = sorted(set(scores) - set(SCORES))
        if unknown or not scores:
            raise ValueError(f'scores must be a non-empty subset of {SCORES}, got {scores}')
        if softmax_temperature <= 0:
            raise ValueError(f'softmax_temperature must be > 0, got {softmax_temperature}')
        self.withheld_classes = list(withheld_classes)
        self.scores = list(scores)
        self.softmax_temperature = softmax_temperature
        self.reg_covar = reg_covar
        self.sweep_auc = sweep_auc

    def _withheld_labels(self) -> np.ndarray:
        names = self.class_names
        unknown = sorted(set(self.withheld_classes) - set(names))
        if unknown:
            raise ValueError(f'OODAUROC.withheld_classes {unknown} are not dataset classes '
                             f'{names}')
        return np.array([names.index(n) for n in self.withheld_classes])

    def compute_from_sets(self, prototype: dict, query: dict) -> Dict[str, float]:
        withheld = self._withheld_labels()
        if np.isin(prototype['labels'], withheld).any():
            raise ValueError('withheld classes have prototype crops; give the prototype and '
                             'train ObjectCropDatasets the same withheld_classes')
        is_inlier = ~np.isin(query['labels'], withheld)
        if is_inlier.all() or not is_inlier.any():
            raise ValueError('the query crops need both withheld and in-distribution classes '
                             'for an AUROC')
        num_classes = int(max(prototype['labels'].max(), query['labels'].max())) + 1
        prototypes, present = class_prototypes(prototype['embeddings'], prototype['labels'],
                                               num_classes)
        metrics, curves = {}, {}
        for name in self.scores:
            if name == 'max_softmax':
                score = max_softmax_score(query['embeddings'], prototypes, present,
                                          self.softmax_temperature)
                if self.sweep_auc:
                    metrics['sweep_auc_max_softmax'] = sweep_auc(score, is_inlier)
                gap = top2_cosine_gap(query['embeddings'], prototypes, present)
                metrics['top2_gap_inlier'] = float(gap[is_inlier].mean())
                metrics['top2_gap_withheld'] = float(gap[~is_inlier].mean())
            elif name == 'max_cosine':
                score = max_cosine_score(query['embeddings'], prototypes, present)
            else:
                score = gaussian_score(prototype['features'], prototype['labels'],
                                       query['features'], self.reg_covar)
            auroc = float(roc_auc_score(is_inlier, score))
            fpr, tpr, _ = roc_curve(is_inlier, score)
            metrics[f'auroc_{name}'] = auroc
            curves[name] = (fpr, tpr, auroc)
            for class_name, label in zip(self.withheld_classes, withheld):
                outlier = query['labels'] == label
                if outlier.any():  # a withheld class may have no query crop
                    kept = is_inlier | outlier
                    metrics[f'auroc_{name}/{class_name}'] = float(
                        roc_auc_score(is_inlier[kept], score[kept]))
        self.save_figure('ood_roc', plot_roc_curves(
            curves, title=f'OOD ROC, withheld: {", ".join(self.withheld_classes)}'))
        return metrics
