"""The ranked branch's report: its fields against scipy, its pairing by seed and its wording."""
import json

import pytest
from scipy import stats

from mmproseco.pipeline.ranked_report import (BELOW_HALF, MEASURES, gap_evidence, main,
                                              render_markdown)

WITHHELD = ('cyan_triangle', 'orange_square')
SCORES = ('max_softmax', 'max_cosine', 'gaussian')
# accuracy per method and seed; the ranked loss beats SoftMax, trails SupCon and is within
# the spread of RINCE
ACCURACY = {'ranked': {0: 0.80, 1: 0.82, 2: 0.85, 3: 0.5},
            'supcon': {0: 0.86, 1: 0.87, 2: 0.91, 3: 0.5},
            'rince': {0: 0.83, 1: 0.78, 2: 0.86, 3: 0.5},
            'softmax': {0: 0.70, 1: 0.73, 2: 0.74, 3: 0.5}}
NAMES = {'ranked': 'Ours (ranked)', 'supcon': 'SupCon', 'rince': 'RINCE', 'softmax': 'SoftMax'}


def auroc(method, seed, score, target):
    """A distinct value for every cell, max_softmax below 0.5 for the ranked loss, and a
    spread over seeds that differs between methods."""
    base = {'max_softmax': 0.40 if method == 'ranked' else 0.55, 'max_cosine': 0.70,
            'gaussian': 0.85}[score]
    offset = {'all': 0.0, WITHHELD[0]: 0.03, WITHHELD[1]: -0.02}[target]
    index = list(ACCURACY).index(method)
    return base + offset + 0.01 * seed + 0.001 * index + 0.003 * ((3 * seed + 5 * index) % 4)


def metrics(method, seed):
    record = {'config': f'configs/ranked_contrastive/{method}.py',
              'proto/accuracy': ACCURACY[method][seed],
              'proto/mean_class_accuracy': ACCURACY[method][seed] - 0.01,
              'ood/sweep_auc_max_softmax': 0.004 + 0.001 * seed,
              # the ranked loss's inliers have the nearly tied top-2 prototypes
              'ood/top2_gap_inlier': (0.05 if method == 'ranked' else 0.2) + 0.01 * seed,
              'ood/top2_gap_withheld': 0.2 - 0.01 * seed}
    for score in SCORES:
        record[f'ood/auroc_{score}'] = auroc(method, seed, score, 'all')
        for name in WITHHELD:
            record[f'ood/auroc_{score}/{name}'] = auroc(method, seed, score, name)
    return record


def write_runs(root, seeds=(0, 1, 2), methods=tuple(ACCURACY)):
    """One metrics file per method and seed, named as dvc.yaml names them; the arguments,
    seeds given in a shuffled order."""
    args = []
    for method in methods:
        paths = []
        for seed in seeds:
            path = root / f'{method}_seed{seed}.json'
            path.write_text(json.dumps(metrics(method, seed)))
            paths.append(str(path))
        args += ['--run', NAMES[method], *paths[::-1]]
    return args


def report_of(tmp_path, **kwargs):
    args = write_runs(tmp_path, **kwargs)
    main(args + ['--json', str(tmp_path / 'report.json'), '--out', str(tmp_path / 'report.md')])
    return (json.loads((tmp_path / 'report.json').read_text()),
            (tmp_path / 'report.md').read_text())


def t_interval(values):
    return stats.t.interval(0.95, len(values) - 1, loc=sum(values) / len(values),
                            scale=stats.sem(values))


def test_every_method_has_accuracy_and_each_auroc_with_its_interval(tmp_path):
    report, _ = report_of(tmp_path)
    assert report['order'] == list(NAMES.values())
    assert report['withheld'] == list(WITHHELD)
    for method, name in NAMES.items():
        entry = report['methods'][name]
        assert entry['seeds'] == [0, 1, 2]
        values = [ACCURACY[method][s] for s in (0, 1, 2)]
        accuracy = entry['accuracy']
        assert accuracy['values'] == values  # ordered by seed, unrounded
        assert accuracy['mean'] == pytest.approx(sum(values) / 3, abs=1e-15)
        assert (accuracy['ci_low'], accuracy['ci_high']) == pytest.approx(t_interval(values),
                                                                          rel=1e-12)
        assert accuracy['n'] == 3 and accuracy['t'] == pytest.approx(4.3027, abs=1e-4)
        assert set(entry['auroc']) == set(SCORES)
        for score in SCORES:
            assert set(entry['auroc'][score]) == {'all', *WITHHELD}
            for target, cell in entry['auroc'][score].items():
                values = [auroc(method, s, score, target) for s in (0, 1, 2)]
                assert cell['values'] == values
                assert cell['mean'] == pytest.approx(sum(values) / 3, abs=1e-15)
                assert (cell['ci_low'], cell['ci_high']) == pytest.approx(t_interval(values),
                                                                          rel=1e-12)
        assert entry['sweep_auc_max_softmax']['values'] == [0.004, 0.005, 0.006]
        assert entry['top2_gap']['withheld']['values'] == pytest.approx([0.2, 0.19, 0.18])


def test_the_ranked_loss_is_paired_by_seed_with_each_other_method(tmp_path):
    report, _ = report_of(tmp_path)
    comparisons = report['comparisons']
    metrics_compared = ['accuracy', 'auroc.max_softmax.all', 'auroc.max_cosine.all',
                        'auroc.gaussian.all']
    assert [(c['against'], c['metric']) for c in comparisons] == [
        (NAMES[m], path) for m in ('supcon', 'rince', 'softmax') for path in metrics_compared]
    assert report['comparison_count'] == 12
    assert report['chance_of_a_verdict'] == pytest.approx(1 - 0.95 ** 12)
    for c in comparisons:
        assert c['method'] == 'Ours (ranked)' and c['seeds'] == [0, 1, 2] and c['n'] == 3
    for c in comparisons[::4]:  # accuracy, against scipy's paired t-test
        other = next(m for m, n in NAMES.items() if n == c['against'])
        ours = [ACCURACY['ranked'][s] for s in (0, 1, 2)]
        theirs = [ACCURACY[other][s] for s in (0, 1, 2)]
        interval = stats.ttest_rel(ours, theirs).confidence_interval(0.95)
        assert c['differences'] == pytest.approx([a - b for a, b in zip(ours, theirs)])
        assert c['diff_mean'] == pytest.approx((sum(ours) - sum(theirs)) / 3)
        assert (c['ci_low'], c['ci_high']) == pytest.approx((interval.low, interval.high),
                                                            rel=1e-9)
    verdicts = {c['against']: c['verdict'] for c in comparisons[::4]}
    assert verdicts == {'SupCon': 'trails', 'RINCE': 'no detectable difference',
                        'SoftMax': 'beats'}


def test_the_wording_says_beats_or_trails_only_when_the_interval_excludes_zero(tmp_path):
    report, markdown = report_of(tmp_path)
    sentences = [line for line in markdown.splitlines() if line.startswith('- Ours')]
    assert len(sentences) == 12
    for c, sentence in zip(report['comparisons'], sentences):
        excludes = c['ci_low'] > 0 or c['ci_high'] < 0
        worded = ' beats ' in sentence or ' trails ' in sentence
        assert worded == excludes, sentence
        if not excludes:
            assert 'no detectable difference at n = 3' in sentence
    assert '- Ours (ranked) trails SupCon on accuracy by 0.057' in markdown
    assert '- Ours (ranked) beats SoftMax on accuracy by 0.100' in markdown
    assert '**12 paired comparisons**' in markdown and 'not corrected for multiplicity' in markdown
    assert 'in 46 % of studies' in markdown  # 1 - 0.95^12


def test_the_markdown_explains_each_score_and_a_score_below_half(tmp_path):
    report, markdown = report_of(tmp_path)
    for text in MEASURES.values():
        assert text in markdown
    # only the ranked loss's max-softmax is below 0.5, every target of it
    assert BELOW_HALF['max_softmax'] in markdown
    assert BELOW_HALF['max_cosine'] not in markdown and BELOW_HALF['gaussian'] not in markdown
    line = next(line for line in markdown.splitlines() if 'max-softmax below 0.5' in line)
    mean = sum(auroc('ranked', s, 'max_softmax', 'all') for s in (0, 1, 2)) / 3
    assert f'Ours (ranked) (all withheld: {mean:.3f} [' in line and 'SupCon' not in line
    assert 'Ours (ranked): inliers 0.060, withheld 0.190 (consistent with it)' in line
    supcon = report['methods']['SupCon']  # gaps that do not show merged siblings
    assert gap_evidence('SupCon', supcon) == (
        'SupCon: inliers 0.210, withheld 0.190 (not smaller for inliers: it does not hold)')
    assert markdown == render_markdown(report)  # from the JSON alone


def test_no_score_below_half_needs_no_explanation(tmp_path):
    _, markdown = report_of(tmp_path, methods=('supcon', 'softmax'))
    assert 'No mean AUROC is below 0.5.' in markdown
    assert not any(text in markdown for text in BELOW_HALF.values())


def test_one_seed_gives_values_and_no_interval(tmp_path):
    report, markdown = report_of(tmp_path, seeds=(1, ))
    accuracy = report['methods']['SupCon']['accuracy']
    assert accuracy == dict(values=[0.87], seeds=[1], mean=0.87, std=None, n=1, ci_low=None,
                            ci_high=None, t=None)
    assert '| SupCon | 1 | 0.870 (n = 1) |' in markdown
    assert all(c['verdict'] == 'no interval' for c in report['comparisons'])
    assert '- Ours (ranked) against SupCon on accuracy: one shared seed (difference -0.050), ' \
        'no interval at n = 1.' in markdown


def test_only_shared_seeds_are_paired(tmp_path):
    args = write_runs(tmp_path, seeds=(0, 1, 2), methods=('ranked', ))
    args += write_runs(tmp_path, seeds=(1, 2), methods=('supcon', ))
    main(args + ['--json', str(tmp_path / 'report.json')])
    report = json.loads((tmp_path / 'report.json').read_text())
    c = report['comparisons'][0]
    assert c['seeds'] == [1, 2] and c['n'] == 2
    assert c['differences'] == pytest.approx([0.82 - 0.87, 0.85 - 0.91])


def test_params_keep_only_the_studys_seeds(tmp_path, repo_root):
    params = tmp_path / 'params.yaml'  # the committed file: the default profile's 0, 1, 2
    params.write_text(open(f'{repo_root}/params.yaml').read().replace(
        'ranked_seeds: [0, 1, 2]', 'ranked_seeds: [0, 2]'))
    args = write_runs(tmp_path, seeds=(0, 1, 2, 3))
    main(args + ['--params', str(params), '--json', str(tmp_path / 'report.json')])
    report = json.loads((tmp_path / 'report.json').read_text())
    assert report['methods']['SupCon']['accuracy']['values'] == [0.86, 0.91]
    assert {tuple(c['seeds']) for c in report['comparisons']} == {(0, 2)}


def test_a_source_needs_its_seed_in_its_name(tmp_path):
    path = tmp_path / 'supcon.json'
    path.write_text(json.dumps(metrics('supcon', 0)))
    with pytest.raises(ValueError, match='no seed<S> in its name'):
        main(['--run', 'SupCon', str(path)])
