"""Prototype accuracy and OOD AUROC against direct computations on a small fixture."""
import numpy as np
import pytest
import torch
from scipy.stats import multivariate_normal

from mmproseco.evaluation.metrics import OODAUROC, PrototypeAccuracy
from mmproseco.evaluation.metrics.ood_auroc import (gaussian_score, max_cosine_score,
                                                    max_softmax_score, top2_cosine_gap)
from mmproseco.evaluation.metrics.prototype_accuracy import class_prototypes

CLASSES = ('a', 'b', 'c', 'd')


@pytest.fixture
def crop_sets():
    """Prototype crops of classes a, b, c; query crops of a-c plus the withheld class d."""
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(4, 6))

    def draw(labels):
        emb = centres[labels] + 0.9 * rng.normal(size=(len(labels), 6))
        feat = centres[labels] @ rng.normal(size=(6, 3)) + rng.normal(size=(len(labels), 3))
        return dict(labels=np.array(labels), embeddings=emb / np.linalg.norm(emb, axis=1)[:, None],
                    features=feat)

    return draw([0] * 8 + [1] * 7 + [2] * 9), draw([0] * 5 + [1] * 6 + [2] * 4 + [3] * 5)


def _samples(role, crop_set, split_at):
    """Data samples as the model returns them, two images per set."""
    samples = []
    for part in np.split(np.arange(len(crop_set['labels'])), [split_at]):
        samples.append(dict(
            crop_role=role, gt_instances=dict(labels=torch.from_numpy(crop_set['labels'][part])),
            pred_instances=dict(embeddings=torch.from_numpy(crop_set['embeddings'][part]),
                                features=torch.from_numpy(crop_set['features'][part]))))
    return samples


def _evaluate(metric, prototype, query):
    metric.dataset_meta = dict(classes=CLASSES)
    metric.process({}, _samples('prototype', prototype, 5) + _samples('query', query, 7))
    return metric.compute_metrics(metric.results)


def test_prototype_accuracy_by_loops(crop_sets, tmp_path):
    prototype, query = crop_sets
    means = {}
    for c in range(3):
        rows = [e for e, l in zip(prototype['embeddings'], prototype['labels']) if l == c]
        mean = np.sum(rows, axis=0)
        means[c] = mean / np.linalg.norm(mean)
    correct, per_class = [], {}
    for emb, label in zip(query['embeddings'], query['labels']):
        if label not in means:
            continue  # withheld class: no prototype
        cosines = {c: float(emb @ m) / np.linalg.norm(emb) for c, m in means.items()}
        hit = max(cosines, key=cosines.get) == label
        correct.append(hit)
        per_class.setdefault(label, []).append(hit)
    metric = PrototypeAccuracy(tsne=True, tsne_max_points=12, out_dir=str(tmp_path))
    result = _evaluate(metric, prototype, query)
    assert result['accuracy'] == pytest.approx(np.mean(correct))
    assert result['mean_class_accuracy'] == pytest.approx(
        np.mean([np.mean(v) for v in per_class.values()]))
    assert 0 < result['accuracy'] < 1  # the fixture is neither trivial nor hopeless
    assert (tmp_path / 'tsne_embeddings.png').stat().st_size > 1000


def _pairwise_auroc(scores, is_inlier):
    """Probability that an inlier outscores an outlier (ties count half): the AUROC."""
    inliers, outliers = scores[is_inlier], scores[~is_inlier]
    wins = sum((i > o) + 0.5 * (i == o) for i in inliers for o in outliers)
    return wins / (len(inliers) * len(outliers))


def test_ood_auroc_by_direct_computation(crop_sets, tmp_path):
    prototype, query = crop_sets
    is_inlier = query['labels'] != 3
    prototypes, present = class_prototypes(prototype['embeddings'], prototype['labels'], 4)
    # max softmax of cosines, T = 1, written out
    cos = query['embeddings'] @ prototypes[:3].T
    soft = np.exp(cos) / np.exp(cos).sum(1, keepdims=True)
    np.testing.assert_allclose(max_softmax_score(query['embeddings'], prototypes, present),
                               soft.max(1))
    # Gaussian score: per-class MLE mean/covariance (+ reg on the diagonal) of unit features
    unit = lambda x: x / np.linalg.norm(x, axis=1, keepdims=True)  # noqa: E731
    train, test = unit(prototype['features']), unit(query['features'])
    logpdfs = []
    for c in range(3):
        rows = train[prototype['labels'] == c]
        cov = np.cov(rows.T, bias=True) + 1e-2 * np.eye(3)
        logpdfs.append(multivariate_normal(rows.mean(0), cov).logpdf(test))
    gauss = np.max(logpdfs, axis=0)
    np.testing.assert_allclose(gaussian_score(prototype['features'], prototype['labels'],
                                              query['features'], reg_covar=1e-2), gauss,
                               rtol=1e-6)
    metric = OODAUROC(withheld_classes=['d'], reg_covar=1e-2, sweep_auc=True,
                      out_dir=str(tmp_path))
    result = _evaluate(metric, prototype, query)
    assert result['auroc_max_softmax'] == pytest.approx(_pairwise_auroc(soft.max(1), is_inlier))
    assert result['auroc_gaussian'] == pytest.approx(_pairwise_auroc(gauss, is_inlier))
    assert 0 <= result['sweep_auc_max_softmax'] <= 1
    assert (tmp_path / 'ood_roc.png').stat().st_size > 1000


def test_ood_auroc_per_withheld_class(crop_sets):
    # withhold c and d: c's prototype crops go, its query crops become OOD with d's
    prototype, query = crop_sets
    prototype = {k: v[prototype['labels'] != 2] for k, v in prototype.items()}
    prototypes, present = class_prototypes(prototype['embeddings'], prototype['labels'], 4)
    cos = query['embeddings'] @ prototypes[:2].T  # prototypes of a and b only
    scores = dict(
        max_softmax=(np.exp(cos) / np.exp(cos).sum(1, keepdims=True)).max(1),
        max_cosine=cos.max(1),
        gaussian=gaussian_score(prototype['features'], prototype['labels'], query['features'],
                                reg_covar=1e-2))
    np.testing.assert_allclose(max_cosine_score(query['embeddings'], prototypes, present),
                               scores['max_cosine'])
    result = _evaluate(OODAUROC(withheld_classes=['c', 'd'], reg_covar=1e-2), prototype, query)
    labels = query['labels']
    inlier = labels < 2
    for name, score in scores.items():
        assert result[f'auroc_{name}'] == pytest.approx(_pairwise_auroc(score, inlier))
        for class_name, label in (('c', 2), ('d', 3)):
            kept = inlier | (labels == label)
            assert result[f'auroc_{name}/{class_name}'] == pytest.approx(
                _pairwise_auroc(score[kept], inlier[kept]))
    assert result['auroc_max_cosine/c'] != pytest.approx(result['auroc_max_cosine/d'])


def test_merged_siblings_put_max_softmax_below_half_not_max_cosine():
    # Classes a and b trained into one cluster (their prototypes coincide), c elsewhere. An
    # inlier of a or b has two prototype cosines near 1, so its softmax is split; an OOD crop
    # near c alone has one high cosine and a larger max softmax, though a lower max cosine.
    e = np.eye(3)
    rng = np.random.default_rng(0)

    def crops(direction, count, labels):
        emb = direction + 0.05 * rng.normal(size=(count, 3))
        return dict(labels=np.array(labels), embeddings=emb / np.linalg.norm(emb, axis=1)[:, None],
                    features=rng.normal(size=(count, 2)))

    merged = [crops(e[0], 6, [0] * 3 + [1] * 3), crops(e[1], 6, [2] * 6)]
    prototype = {k: np.concatenate([m[k] for m in merged]) for k in merged[0]}
    inliers = crops(e[0], 6, [0, 1] * 3)
    outliers = crops(0.8 * e[1] + 0.6 * e[2], 6, [3] * 6)
    query = {k: np.concatenate([inliers[k], outliers[k]]) for k in inliers}
    result = _evaluate(OODAUROC(withheld_classes=['d'], scores=['max_softmax', 'max_cosine']),
                       prototype, query)
    assert result['auroc_max_softmax'] < 0.5 < result['auroc_max_cosine']
    # the diagnostic the report cites: inliers' two nearest prototypes are nearly tied
    assert result['top2_gap_inlier'] < 0.1 < result['top2_gap_withheld']


def test_top2_gap_by_loops(crop_sets):
    prototype, query = crop_sets
    prototypes, present = class_prototypes(prototype['embeddings'], prototype['labels'], 4)
    gaps = []
    for emb in query['embeddings']:
        cosines = sorted((float(emb @ p) / np.linalg.norm(emb) for p in prototypes[:3]),
                         reverse=True)
        gaps.append(cosines[0] - cosines[1])
    assert top2_cosine_gap(query['embeddings'], prototypes, present) == pytest.approx(gaps)
    result = _evaluate(OODAUROC(withheld_classes=['d']), prototype, query)
    inlier = query['labels'] != 3
    assert result['top2_gap_inlier'] == pytest.approx(np.mean(np.array(gaps)[inlier]))
    assert result['top2_gap_withheld'] == pytest.approx(np.mean(np.array(gaps)[~inlier]))


def test_ood_metric_errors(crop_sets):
    prototype, query = crop_sets
    with pytest.raises(ValueError, match='not dataset classes'):
        _evaluate(OODAUROC(withheld_classes=['zebra']), prototype, query)
    with pytest.raises(ValueError, match='have prototype crops'):
        _evaluate(OODAUROC(withheld_classes=['a']), prototype, query)
    with pytest.raises(ValueError, match='scores'):
        OODAUROC(withheld_classes=['d'], scores=['energy'])
