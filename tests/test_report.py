"""The study's report: report.json from a tiny tree of metrics, curves and timings files,
report.md rendered from it, the wording rule, the convergence counts and the budget."""
import json

import pytest
from scipy import stats

from mmproseco.pipeline.report import (backbone_sentence, budget, cell_convergence, main,
                                       read_params, render_markdown, verdict, verdict_sentence)

#: test mAP per method and seed at 10 % (seeds 0, 1, 2)
MAPS = dict(scratch=(0.200, 0.210, 0.190), detreg=(0.300, 0.320, 0.285),
            sce=(0.205, 0.230, 0.185), proseco=(0.260, 0.275, 0.255),
            **{'proseco-delta0.5': (0.250, 0.270, 0.262)})
CONVERGED = [0.10, 0.20, 0.25, 0.24, 0.25]  # best first at iter 300, tail 0.2467
RISING = [0.05, 0.10, 0.15, 0.20]  # best is the last


def finetune_run(method, fraction, seed, test_map, val, converged):
    history = [dict(iter=100 * (i + 1), bbox_mAP=v) for i, v in enumerate(val)]
    best = max(history, key=lambda p: p['bbox_mAP'])  # the first of equal ones
    return dict(method=method, fraction=fraction, seed=seed, bbox_mAP=test_map,
                bbox_mAP_50=test_map + 0.2, best_val_iter=best['iter'],
                last_val_iter=history[-1]['iter'], val_history=history, converged=converged)


def write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


@pytest.fixture
def tree(tmp_path):
    metrics, curves, timings = tmp_path / 'metrics', tmp_path / 'curves', tmp_path / 'timings'
    for method, maps in MAPS.items():
        for seed, value in enumerate(maps):
            val = RISING if method == 'detreg' else CONVERGED
            run = finetune_run(method, 10.0, seed, value, val, method != 'detreg')
            folder, name = 'finetune', f'{method}_10pct_seed{seed}'
            if method == 'proseco-delta0.5':  # the delta ablation's names (dvc.yaml)
                run.update(method='proseco', delta=0.5)
                folder, name = 'delta/finetune', f'delta0.5_seed{seed}'
            write(metrics / folder / f'{name}.json', run)
            write(curves / folder / f'{name}.json',
                  [dict(iter=100, loss=2.0), dict(iter=100, **{'coco/bbox_mAP': 0.1})])
            write(timings / folder / f'{name}.json',
                  dict(train_seconds=50.0, started=1000.0, ended=1090.0))
    # runs outside params.yaml's study: a dropped seed, a dropped delta, a dropped fraction
    write(metrics / 'finetune' / 'proseco_10pct_seed7.json',
          finetune_run('proseco', 10.0, 7, 0.9, CONVERGED, True))
    write(metrics / 'delta' / 'finetune' / 'delta0.2_seed0.json',
          dict(finetune_run('proseco', 10.0, 0, 0.9, CONVERGED, True), delta=0.2))
    write(metrics / 'finetune' / 'proseco_1pct_seed0.json',  # an older stage's format
          {'coco/bbox_mAP': 0.9, 'method': 'proseco', 'fraction': 1.0, 'seed': 0})
    write(metrics / 'ceiling' / 'seed1.json',
          finetune_run('ceiling', 100.0, 1, 0.9, CONVERGED, True))
    (tmp_path / 'params.yaml').write_text(
        'study: {seeds: [0, 1, 2], fractions: [5, 10], ceiling_seeds: [0], deltas: [0.5]}\n'
        'backbone: {use: true, config: c.py, frozen: true}\n')
    # 5 %: one shared seed only, so no interval
    for method, value in (('scratch', 0.10), ('proseco', 0.12)):
        write(metrics / 'finetune' / f'{method}_5pct_seed0.json',
              finetune_run(method, 5.0, 0, value, CONVERGED, True))
    write(metrics / 'ceiling' / 'seed0.json',
          finetune_run('ceiling', 100.0, 0, 0.3312, CONVERGED, True))
    for seed, (teacher_init, positives) in enumerate(((2.0, 1.1), (1.6, 1.05), (1.0, 1.15))):
        distances = dict(teacher_student_distance=0.5, teacher_init_distance=teacher_init,
                         student_init_distance=3.0, last_losses=dict(loss=4.0 + seed))
        write(metrics / 'pretrain' / f'proseco_seed{seed}.json',
              dict(distances, mean_positives_per_query=positives, matched_cos=0.8))
        write(metrics / 'pretrain' / f'sce_seed{seed}.json',
              dict(distances, mean_positives_per_query=1.0, matched_cos=0.7))
        write(metrics / 'pretrain' / f'detreg_seed{seed}.json', dict(last_losses=dict(loss=7.0)))
        write(metrics / 'delta' / 'pretrain' / f'delta0.5_seed{seed}.json',
              dict(distances, mean_positives_per_query=1.5, matched_cos=0.8))
        write(curves / 'pretrain' / f'proseco_seed{seed}.json',
              [dict(iter=i, loss=5.0 - i / 100, positives_per_query=1.1,
                    teacher_student_distance=0.5, teacher_init_distance=i / 100,
                    student_init_distance=i / 50) for i in (10, 20, 30)])
    write(metrics / 'pretrain' / 'proseco.json', dict(last_losses={}))  # no seed: ignored
    write(metrics / 'pretrain' / 'scratch_seed0.json', dict(iters=0))  # nothing to show
    write(metrics / 'pretrain' / 'sce_seed7.json', dict(last_losses=dict(loss=7.0)))  # dropped
    write(metrics / 'baselines' / 'faster-rcnn.json',
          {'config': 'c.py', 'coco/bbox_mAP': 0.047, 'coco/bbox_mAP_50': 0.187})
    write(timings / 'proposals' / 'shapes.json', dict(wall_seconds=120.0))
    write(timings / 'pretrain' / 'image-sce-backbone_seed0.json',
          dict(train_seconds=250.0, started=0.0, ended=300.0))
    write(timings / 'pretrain' / 'proseco_seed0.json', dict(train_seconds=60.0))
    write(timings / 'pretrain' / 'scratch_seed0.json', dict(train_seconds=6.0))
    write(timings / 'ceiling' / 'seed0.json', dict(started=0.0, ended=600.0))
    write(timings / 'ranked' / 'supcon_seed0.json', dict(train_seconds=30.0))
    write(timings / 'i2i' / 'cut.json', dict(train_seconds=42.0))
    write(timings / 'finetune' / 'proseco_10pct_seed7.json', dict(train_seconds=1e4))  # dropped
    write(timings / 'pretrain' / 'proseco.json', dict(train_seconds=1e4))  # an older name
    (tmp_path / 'ranked.md').write_text('| ranked | table |')
    out = tmp_path / 'results'
    main(['--metrics', str(metrics), '--timings', str(timings), '--curves', str(curves),
          '--ranked', str(tmp_path / 'ranked.md'), '--i2i', str(tmp_path / 'missing.md'),
          '--out', str(out), '--params', str(tmp_path / 'params.yaml')])
    return out


def test_cells_hold_unrounded_values_per_seed(tree):
    report = json.loads((tree / 'report.json').read_text())
    cell = report['finetune']['proseco']['10']
    assert cell['values'] == list(MAPS['proseco']) and cell['seeds'] == [0, 1, 2]
    assert cell['n'] == 3
    assert cell['mean'] == pytest.approx(sum(MAPS['proseco']) / 3, abs=1e-15)
    assert cell['std'] == pytest.approx(stats.tstd(MAPS['proseco']), abs=1e-15)
    assert report['finetune']['scratch']['5'] == dict(
        values=[0.10], seeds=[0], mean=0.10, std=None, n=1,
        bbox_mAP_50=dict(values=[pytest.approx(0.30)], mean=pytest.approx(0.30), std=None, n=1))
    assert report['ceiling']['values'] == [0.3312] and report['ceiling']['n'] == 1


def test_comparisons_are_paired_t_intervals_of_each_pair_once(tree):
    report = json.loads((tree / 'report.json').read_text())
    at10 = [c for c in report['comparisons'] if c['fraction'] == 10.0]
    pairs = [(c['method'], c['against']) for c in at10]
    assert pairs == [('detreg', 'scratch'), ('sce', 'scratch'), ('proseco', 'scratch'),
                     ('proseco-delta0.5', 'scratch'), ('proseco', 'detreg'), ('proseco', 'sce'),
                     ('proseco', 'proseco-delta0.5')]
    for c in at10:
        expected = stats.ttest_rel(MAPS[c['method']], MAPS[c['against']])
        interval = expected.confidence_interval(0.95)
        assert c['n'] == 3 and c['t'] == pytest.approx(4.3027, abs=1e-4)
        assert c['diff_mean'] == pytest.approx(
            (sum(MAPS[c['method']]) - sum(MAPS[c['against']])) / 3, abs=1e-12)
        assert (c['ci_low'], c['ci_high']) == pytest.approx((interval.low, interval.high))
    verdicts = {(c['method'], c['against']): c['verdict'] for c in at10}
    assert verdicts == {('detreg', 'scratch'): 'beats', ('sce', 'scratch'):
                        'no detectable difference', ('proseco', 'scratch'): 'beats',
                        ('proseco-delta0.5', 'scratch'): 'beats', ('proseco', 'detreg'): 'trails',
                        ('proseco', 'sce'): 'beats',
                        ('proseco', 'proseco-delta0.5'): 'no detectable difference'}
    at5 = [c for c in report['comparisons'] if c['fraction'] == 5.0]
    assert len(at5) == 1 and at5[0]['n'] == 1 and at5[0]['ci_low'] is None
    assert at5[0]['diff_mean'] == pytest.approx(0.02) and at5[0]['verdict'] == 'no interval'


def test_markdown_is_rendered_from_the_json(tree):
    report = json.loads((tree / 'report.json').read_text())
    markdown = (tree / 'report.md').read_text()
    assert markdown == render_markdown(report)
    assert '| ProSeCo (LocSCE) | 12.00 (AP50 32.00, n = 1, no std) | 26.33 ± 1.04 ' in markdown
    assert '| Fully supervised ceiling (100 % of train) | – | – | 33.12 (AP50 53.12, n = 1, ' \
           'no std) |' in markdown
    assert '**10 % labels: 7 comparisons**' in markdown
    assert '| ProSeCo (LocSCE), delta = 0.5 | – | 26.07 ± 1.01 (AP50 46.07, n = 3) | – |' \
        in markdown
    assert 'not corrected for multiplicity' in markdown
    assert ('- ProSeCo (LocSCE) beats Random init (supervised only) by 6.33 mAP (95 % interval '
            in markdown)
    assert ('- SCE (LocSCE with delta = 1) against Random init (supervised only): no detectable '
            'difference at n = 3 (difference 0.67 mAP, 95 % interval ' in markdown)
    assert 'n = 3, t = 4.30)' in markdown
    assert 'one shared seed (2.00 mAP), no interval at n = 1.' in markdown
    assert '| ranked | table |' in markdown and 'I2I adapter' not in markdown
    for png in ('map_vs_fraction.png', 'training_curves.png', 'pretraining_dynamics.png'):
        assert (tree / png).stat().st_size > 1000


def test_wording_follows_the_interval():
    assert verdict(0.001, 0.03) == 'beats'
    assert verdict(-0.03, -0.001) == 'trails'
    assert verdict(-0.001, 0.03) == 'no detectable difference'
    assert verdict(None, None) == 'no interval'
    covering = dict(method='proseco', against='sce', diff_mean=0.012, ci_low=-0.004,
                    ci_high=0.028, n=3, t=4.303, verdict=verdict(-0.004, 0.028))
    sentence = verdict_sentence(covering)
    assert sentence == ('ProSeCo (LocSCE) against SCE (LocSCE with delta = 1): no detectable '
                        'difference at n = 3 (difference 1.20 mAP, 95 % interval -0.40 to '
                        '2.80, n = 3, t = 4.30).')
    excluding = dict(covering, diff_mean=-0.012, ci_low=-0.028, ci_high=-0.004,
                     verdict=verdict(-0.028, -0.004))
    assert verdict_sentence(excluding).startswith(
        'ProSeCo (LocSCE) trails SCE (LocSCE with delta = 1) by 1.20 mAP (95 % interval -2.80 '
        'to -0.40')


def test_convergence_counts(tree):
    report = json.loads((tree / 'report.json').read_text())
    proseco = report['convergence']['proseco']['10']
    assert (proseco['runs'], proseco['converged'], proseco['plateau_rechecked'],
            proseco['best_before_last'], proseco['min_validations']) == (3, 3, 3, 3, 5)
    detreg = report['convergence']['detreg']['10']
    assert (detreg['converged'], detreg['plateau_rechecked'], detreg['best_before_last']) == (
        0, 0, 0)
    assert report['convergence']['ceiling']['100']['runs'] == 1
    markdown = (tree / 'report.md').read_text()
    assert '| DETReg-style, 10 % | 3 | 0 | 0 | 0 | 4 |' in markdown
    assert 'In all: 15 of 18 runs converged as recorded, 15 when re-checked' in markdown


def test_rechecked_plateau_uses_the_seed_std_of_the_best_val_map():
    # best val 0.25, 0.30, 0.35: std 0.05. The last run's tail (0.31) is 0.04 below its best,
    # beyond the 0.01 floor the run itself applied, within the cell's seed std.
    runs = [finetune_run('sce', 10.0, s, 0.2, val, False) for s, val in enumerate(
        ([0.1, 0.25, 0.25, 0.25], [0.1, 0.30, 0.30, 0.30], [0.1, 0.35, 0.31, 0.31, 0.31]))]
    counts = cell_convergence(runs)
    assert counts['seed_std_best_val'] == pytest.approx(0.05)
    assert (counts['converged'], counts['plateau_rechecked'], counts['best_before_last']) == (
        0, 3, 3)
    assert cell_convergence(runs[2:])['plateau_rechecked'] == 0  # alone: the 0.01 floor


def test_pretraining_dynamics(tree):
    report = json.loads((tree / 'report.json').read_text())
    pretraining = report['pretraining']
    # 'proseco.json' has no seed, random init no scalar
    assert set(pretraining) == {'detreg', 'sce', 'proseco', 'proseco-delta0.5'}
    assert pretraining['sce']['seeds'] == [0, 1, 2]  # seed 7 is not in the study
    proseco = pretraining['proseco']
    assert proseco['teacher_init_distance']['mean'] == pytest.approx(4.6 / 3)
    assert proseco['mean_positives_per_query']['mean'] == pytest.approx(1.1)
    assert proseco['teacher_moved'] == dict(ratio=0.5, n=3, holds=2)  # 1.0 < 0.5 x 3.0
    assert proseco['locsce_is_sce'] is True
    assert 'locsce_is_sce' not in pretraining['sce'] and 'teacher_moved' not in \
        pretraining['detreg']
    assert pretraining['proseco-delta0.5']['locsce_is_sce'] is False  # |P(i)| 1.5
    markdown = (tree / 'report.md').read_text()
    assert ('- ProSeCo (LocSCE): mean |P(i)| = 1.100 at the end of pretraining, below 1.2: '
            'LocSCE reduces to SCE here.') in markdown
    assert ('- ProSeCo (LocSCE): teacher-init >= 0.5 x student-init fails (2 of 3 seeds).'
            in markdown)
    assert '| DETReg-style | 3 | – | – | – | – | – | – | 7.000 |' in markdown


def test_budget_sums_each_stages_own_seconds(tree):
    """The seconds come from the timings files: the stage's timestamps when it has them
    (the backbone's 300 s, not its 250 s of training), else its wall or train seconds."""
    report = json.loads((tree / 'report.json').read_text())
    proseco, ranked, i2i = report['budget']['parts']
    assert proseco['part'] == 'ProSeCo'
    assert [(i['item'], i['stages'], i['seconds']) for i in proseco['items']] == [
        ('fine-tunings', 12, 1080.0), ('ceiling', 1, 600.0), ('backbones', 1, 300.0),
        ('delta ablation', 3, 270.0), ('proposals', 1, 120.0), ('pretrainings', 1, 60.0),
        ('random inits', 1, 6.0)]
    assert proseco['minutes'] == pytest.approx(2436 / 60)
    assert (ranked['part'], ranked['seconds'], i2i['part'], i2i['seconds']) == (
        'ranked', 30.0, 'I2I', 42.0)
    assert report['budget']['sources'] == dict(timestamps=17, train_seconds=4, wall_seconds=1)
    assert report['budget']['left_out'] == 2
    markdown = (tree / 'report.md').read_text()
    assert '| **ProSeCo** | all | 20 | **40.6** |' in markdown
    assert '**41.8 minutes** in all' in markdown
    assert '2 timings files of runs outside the study are left out.' in markdown


def test_budget_of_no_timings_is_empty(tmp_path):
    assert budget(tmp_path) == dict(parts=[], seconds=0, minutes=0.0, sources={}, left_out=0)


def test_backbone_sentence_follows_params(tmp_path):
    path = tmp_path / 'params.yaml'
    path.write_text('backbone: {use: true, config: c.py, frozen: true}\n')
    sentence = backbone_sentence(read_params(path)['backbone'])[0]
    assert 'starts from an image-level SCE backbone' in sentence
    assert 'frozen during pretraining' in sentence
    path.write_text('backbone: {use: false, config: c.py, frozen: true}\n')
    assert backbone_sentence(read_params(path)['backbone'])[0].startswith(
        'Every method starts from a random backbone')


def test_old_metrics_are_refused_with_a_reason(tmp_path):
    write(tmp_path / 'metrics' / 'finetune' / 'proseco_10pct_seed0.json',
          {'coco/bbox_mAP': 0.03, 'method': 'proseco', 'fraction': 10.0, 'seed': 0})
    with pytest.raises(ValueError, match='lacks .*bbox_mAP.*older finetune stage'):
        main(['--metrics', str(tmp_path / 'metrics'), '--timings', str(tmp_path),
              '--curves', str(tmp_path), '--ranked', 'x', '--i2i', 'y',
              '--out', str(tmp_path / 'out'), '--params', str(tmp_path / 'none.yaml')])
