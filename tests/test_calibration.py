"""The calibration of the schedules: the rule on curves whose answer is known in closed form,
and one tiny real run of the fine-tuning kind."""
import dataclasses
import glob
import json
import math
import os.path as osp
import subprocess
import sys

import matplotlib.image
import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmproseco.datasets.data_errors import DataError
from mmproseco.pipeline.calibration import (ACCURACY, LOSS, METRIC, METRIC50, calibrate,
                                            check_proposals_cover_pool, flattened, main,
                                            moving_average, pick_length, study_kinds)
from mmproseco.pipeline.params import load_params

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


# ------------------------------------------------------------------------- the rule
def test_moving_average_is_the_trailing_mean():
    values = [4.0, 1.0, 7.0, 2.0, 5.0]
    # by hand: [4], [4, 1], [4, 1, 7], [1, 7, 2], [7, 2, 5]
    assert moving_average(values, 3).tolist() == pytest.approx(
        [4.0, 2.5, 4.0, 10 / 3, 14 / 3])
    assert moving_average(values, 1).tolist() == values


def test_moving_average_of_a_ramp_lags_by_half_the_window():
    # The mean of a + b t over the last w points is a + b (t - (w - 1) / 2).
    t = np.arange(50.0)
    smoothed = moving_average(2.0 + 0.5 * t, 5)
    assert smoothed[4:] == pytest.approx(2.0 + 0.5 * (t[4:] - 2))


def test_saturating_metric_reaches_90_percent_at_tau_ln_10():
    # 1 - exp(-t / tau) over 20 tau: its best value is 1 - exp(-20) (1 within 2e-9), so the
    # 90 % point is tau ln 10, and the first point on a grid of step 1 is its ceiling.
    tau = 100.0
    t = np.arange(1, 2001)
    pick = pick_length(t, 1 - np.exp(-t / tau), METRIC, window=1)
    assert pick['length'] == math.ceil(tau * math.log(10)) == 231
    assert pick['start'] == 0 and pick['plateau'] == pytest.approx(1 - math.exp(-20))
    assert pick['target'] == pytest.approx(0.9 * pick['plateau'])
    assert flattened(pick['length'], t[-1])


def test_metric_plateau_is_the_best_value_of_a_short_run():
    # Over 2 tau the best is 1 - exp(-2), and 90 % of it is reached at
    # t = -tau ln(1 - 0.9 (1 - exp(-2))), earlier than tau ln 10.
    tau, step = 100.0, 2
    t = np.arange(step, 201, step)
    pick = pick_length(t, 1 - np.exp(-t / tau), METRIC, window=1)
    exact = -tau * math.log(1 - 0.9 * (1 - math.exp(-2)))
    assert exact <= pick['length'] < exact + step
    assert pick['length'] < tau * math.log(10)


def test_loss_covers_90_percent_of_its_decrease():
    # 1 + 3 exp(-t / tau) from t0 to T: the first value is the start, the last the plateau,
    # and exp(-t* / tau) = exp(-t0 / tau) - 0.9 (exp(-t0 / tau) - exp(-T / tau)).
    tau, t0, big_t, step = 80.0, 20, 400, 20
    t = np.arange(t0, big_t + 1, step)
    pick = pick_length(t, 1 + 3 * np.exp(-t / tau), LOSS, window=1)
    a, b = math.exp(-t0 / tau), math.exp(-big_t / tau)
    exact = -tau * math.log(a - 0.9 * (a - b))
    assert exact <= pick['length'] < exact + step
    assert pick['start'] == pytest.approx(1 + 3 * a)
    assert pick['plateau'] == pytest.approx(1 + 3 * b)
    assert pick['target'] == pytest.approx(1 + 3 * a - 0.9 * 3 * (a - b))


def test_smoothing_ignores_a_lucky_validation():
    # One early validation at the plateau picks iteration 200 unsmoothed; its trailing mean
    # of 3 does not reach 90 % of the best mean until the curve does.
    t = [100, 200, 300, 400, 500, 600, 700, 800]
    values = [0.05, 0.30, 0.10, 0.20, 0.26, 0.29, 0.30, 0.30]
    assert pick_length(t, values, METRIC, window=1)['length'] == 200
    # trailing means from 400: 0.2, 0.1867, 0.25, 0.2833, 0.2967; 90 % of the best is 0.267
    pick = pick_length(t, values, METRIC, window=3)
    assert pick['plateau'] == pytest.approx(0.89 / 3)
    assert pick['length'] == 700


def test_a_rising_curve_has_not_flattened():
    t = np.arange(10, 1001, 10)
    pick = pick_length(t, t + 5.0, METRIC, window=1)  # 90 % of 1005 is 904.5
    assert pick['length'] == 900 and not flattened(pick['length'], 1000)
    pick = pick_length(t, 5 - t / 1000, LOSS, window=1)  # 4.99 - 0.9 * 0.99 = 4.099
    assert pick['length'] == 910 and not flattened(pick['length'], 1000)


@pytest.mark.parametrize('signal,values', [(LOSS, [2.0, 2.1, 2.3]), (METRIC, [0.0, 0.0, 0.0])])
def test_a_curve_that_never_improved_has_no_length(signal, values):
    pick = pick_length([10, 20, 30], values, signal, window=1)
    assert pick['length'] is None and not flattened(pick['length'], 30)


def test_the_kinds_are_the_trainings_of_the_study():
    params = load_params(osp.join(REPO, 'params.yaml'))
    kinds = study_kinds(params)
    scenarios = params['i2i']['scenarios']
    assert set(kinds) == {'backbone', 'finetune10', 'ceiling',
                          *(f'pretrain-{m}' for m in params['pretrain']),
                          *(f'ranked-{m}' for m in params['ranked']['methods']),
                          *(f'i2i-{role}-{s}' for role in ('source', 'oracle') for s in scenarios),
                          *(f'i2i-{a}-{s}' for a in params['i2i']['adapters'] for s in scenarios)}
    for name, scenario in scenarios.items():
        for role in ('source', 'oracle'):
            kind = kinds[f'i2i-{role}-{name}']
            assert kind.config == scenario[role] and kind.signal == METRIC50
        for adapter in params['i2i']['adapters']:
            # the adapter's config of its i2i_adapter stage, in front of the stage's detector
            kind = kinds[f'i2i-{adapter}-{name}']
            assert kind.config == f'configs/i2i/{adapter}_tiny_1xb4-cpu_{name}.py'
            assert osp.isfile(osp.join(REPO, kind.config)) and kind.signal == METRIC50
            assert kind.options == {
                'model.detector_checkpoint': f'work/i2i/{name}/source/final.pth'}
    assert kinds['backbone'].config == params['backbone']['config']
    assert kinds['finetune10'].config == kinds['ceiling'].config == params['finetune_config']
    assert (kinds['finetune10'].percent, kinds['ceiling'].percent) == (10, 100)
    assert {k.signal for k in kinds.values() if k.percent is not None} == {METRIC}
    with open(osp.join(REPO, 'dvc.yaml')) as f:  # the config the ranked stage trains
        assert 'configs/ranked_contrastive/${item.method}_r18_1xb16-cpu_shapes.py' in f.read()
    for method in params['ranked']['methods']:
        kind = kinds[f'ranked-{method}']
        assert (kind.signal, kind.on_backbone) == (ACCURACY, False)
        assert kind.config == f'configs/ranked_contrastive/{method}_r18_1xb16-cpu_shapes.py'
        assert osp.isfile(osp.join(REPO, kind.config))
    for kind in kinds.values():  # each fine-tuning run is validated often enough to see it
        assert kind.val_interval is None or kind.iters // kind.val_interval >= 8


# ------------------------------------------------------------------- one real run
@pytest.fixture(scope='module')
def tiny_shapes(tmp_path_factory):
    root = tmp_path_factory.mktemp('calibration')
    result = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'prepare_data.py'), '--out',
         str(root / 'data'), '--datasets', 'shapes', '--shapes-sizes', '20', '4', '4'],
        capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return root


def test_finetune10_calibrates_end_to_end(tiny_shapes, monkeypatch):
    monkeypatch.chdir(tiny_shapes)  # the configs read data/shapes/ from the working directory
    kind = study_kinds(load_params(osp.join(REPO, 'params.yaml')))['finetune10']
    kind = dataclasses.replace(kind, config=osp.join(REPO, kind.config))
    result = calibrate(kind, 'out', 'work', iters=6, val_interval=2, window=2, seed=3)
    with open('out/finetune10.json') as f:
        assert json.load(f) == json.loads(json.dumps(result))
    # one point per validation, at the iterations the loop validated, with the val mAP the
    # stage's curves file holds
    with open('work/finetune10/curves.json') as f:
        logged = [p[METRIC] for p in json.load(f) if METRIC in p]
    points = result['points']
    assert [p['iter'] for p in points] == [2, 4, 6]
    assert [p['value'] for p in points] == logged
    assert [p['smoothed'] for p in points] == pytest.approx(
        [logged[0], (logged[0] + logged[1]) / 2, (logged[1] + logged[2]) / 2])
    best = max(p['smoothed'] for p in points)
    assert result['plateau'] == pytest.approx(best)
    assert result['length'] == (None if best == 0 else next(
        p['iter'] for p in points if p['smoothed'] >= 0.9 * best))
    # the 10 % split of the 20 train images, drawn with the run's seed
    with open(result['split']) as f:
        assert len(json.load(f)['images']) == 2
    assert result['split'].endswith('train@10pct_seed3.json')
    assert result['val_interval'] == 2 and result['best_val_iter'] in (2, 4, 6)
    assert 0 <= result['test']['bbox_mAP'] <= 1 and 0 <= result['test']['bbox_mAP_50'] <= 1
    assert 0 < result['seconds_per_iter'] < result['train_seconds']
    assert 0 < result['seconds_per_val_iter'] < result['train_seconds']
    image = matplotlib.image.imread('out/finetune10.png')
    assert image.ndim == 3 and image.shape[0] > 100


def test_cfg_options_calibrate_a_variant_of_the_recipe(tiny_shapes, monkeypatch):
    """`--cfg-options` reach both the random initialization and the fine-tuning run."""
    monkeypatch.chdir(tiny_shapes)
    with open(osp.join(REPO, 'params.yaml')) as f:
        text = f.read()
    finetune = load_params(osp.join(REPO, 'params.yaml'))['finetune_config']
    with open('params.yaml', 'w') as f:
        f.write(text.replace(f'finetune_config: {finetune}',
                             f'finetune_config: {osp.join(REPO, finetune)}'))
    main(['--kind', 'finetune10', '--iters', '4', '--val-interval', '2', '--window', '2',
          '--seed', '3', '--backbone', 'none', '--out', 'out', '--work-dir', 'work',
          '--cfg-options', 'optim_wrapper.optimizer.lr=0.0007', 'model.num_queries=20'],
         params_file='params.yaml')
    with open('out/finetune10.json') as f:
        assert json.load(f)['cfg_options'] == {'optim_wrapper.optimizer.lr': 0.0007,
                                               'model.num_queries': 20}
    init = torch.load('work/finetune10/init/detector.pth', map_location='cpu')
    init = init.get('state_dict', init)
    assert init['query_embedding.weight'].shape[0] == 20
    # the config the fine-tuning runner ran, as mmengine dumped it into its work dir
    dumped, = glob.glob('work/finetune10/mmengine/*.py')
    cfg = Config.fromfile(dumped)
    assert cfg.optim_wrapper.optimizer.lr == 0.0007 and cfg.model.num_queries == 20


def test_a_ranked_kind_calibrates_end_to_end(tiny_shapes, monkeypatch):
    monkeypatch.chdir(tiny_shapes)
    kind = study_kinds(load_params(osp.join(REPO, 'params.yaml')))['ranked-supcon']
    kind = dataclasses.replace(kind, config=osp.join(REPO, kind.config))
    result = calibrate(kind, 'out', 'work', iters=20, val_interval=10, window=2, seed=3)
    with open('out/ranked-supcon.json') as f:
        assert json.load(f) == json.loads(json.dumps(result))
    # one point per validation, with the val crop accuracy the stage's curves file holds
    with open('work/ranked-supcon/curves.json') as f:
        logged = [p[ACCURACY] for p in json.load(f) if ACCURACY in p]
    points = result['points']
    assert [p['iter'] for p in points] == [10, 20] and result['signal'] == ACCURACY
    assert [p['value'] for p in points] == logged
    assert [p['smoothed'] for p in points] == pytest.approx([logged[0], sum(logged) / 2])
    best = max(p['smoothed'] for p in points)
    assert result['plateau'] == pytest.approx(best) and result['start'] == 0
    assert result['length'] == (None if best == 0 else next(
        p['iter'] for p in points if p['smoothed'] >= 0.9 * best))
    assert 'val crop accuracies' in result['rule']['text']
    assert result['val_interval'] == 10 and result['plateau_rule_met'] is False  # 2 < 3 vals
    # the final weights tested like the ranked stage's: accuracy and every OOD score
    with open('work/ranked-supcon/metrics.json') as f:
        assert json.load(f)['proto/accuracy'] == result['test']['proto/accuracy']
    assert {'ood/auroc_max_softmax', 'ood/auroc_max_cosine',
            'ood/auroc_gaussian'} <= set(result['test'])
    assert 0 < result['seconds_per_iter'] < result['train_seconds']
    assert 0 < result['seconds_per_val_iter'] < result['train_seconds']
    image = matplotlib.image.imread('out/ranked-supcon.png')
    assert image.ndim == 3 and image.shape[0] > 100


def test_an_i2i_detector_calibrates_on_val_ap50(tiny_shapes, monkeypatch):
    monkeypatch.chdir(tiny_shapes)
    kind = study_kinds(load_params(osp.join(REPO, 'params.yaml')))['i2i-source-shapes-fog']
    kind = dataclasses.replace(kind, config=osp.join(REPO, kind.config))
    result = calibrate(kind, 'out', 'work', iters=4, val_interval=2, window=2, seed=1)
    with open('work/i2i-source-shapes-fog/curves.json') as f:
        logged = [(p['iter'], p[METRIC50]) for p in json.load(f) if METRIC50 in p]
    assert [(p['iter'], p['value']) for p in result['points']] == logged
    assert [i for i, _ in logged] == [2, 4]
    assert result['signal'] == METRIC50 and 'val AP50' in result['rule']['text']
    assert 0 < result['seconds_per_iter'] < result['train_seconds']


def test_an_adapter_without_its_detector_is_named_before_anything_trains(tmp_path,
                                                                         monkeypatch):
    monkeypatch.chdir(tmp_path)
    kind = study_kinds(load_params(osp.join(REPO, 'params.yaml')))['i2i-cut-shapes-fog']
    with pytest.raises(FileNotFoundError, match=r'dvc repro i2i_source@'):
        calibrate(kind, 'out', 'work', iters=4, val_interval=2)
    assert not (tmp_path / 'work').exists()


def test_a_missing_backbone_is_named_before_anything_trains(tmp_path):
    with pytest.raises(FileNotFoundError, match='dvc repro backbone'):
        main(['--kind', 'finetune10', '--backbone', str(tmp_path / 'nope.pth'),
              '--out', str(tmp_path / 'out'), '--work-dir', str(tmp_path / 'work')],
             params_file=osp.join(REPO, 'params.yaml'))
    assert not (tmp_path / 'work').exists()


def test_a_pretraining_on_part_of_its_pool_is_refused_before_anything_trains(tmp_path,
                                                                             monkeypatch):
    # A benchmark's `selective_search.py --max-images 64` once left proposals of 64 of the
    # 3,000 pool images where the pretraining reads them, and a calibration silently
    # trained on those 64 (issue 14).
    monkeypatch.chdir(tmp_path)
    kind = study_kinds(load_params(osp.join(REPO, 'params.yaml')))['pretrain-proseco']
    kind = dataclasses.replace(kind, config=osp.join(REPO, kind.config))
    ann = tmp_path / 'data/shapes/annotations/unlabeled.json'
    ann.parent.mkdir(parents=True)
    ann.write_text(json.dumps({'images': [{'id': i, 'file_name': f'{i}.png'} for i in range(3)]}))
    meta = tmp_path / 'work/proposals/shapes/meta.json'
    meta.parent.mkdir(parents=True)
    meta.write_text(json.dumps({'images': 2}))
    with pytest.raises(DataError, match=r'on 2 of the 3 images(.|\n)*dvc repro proposals'):
        calibrate(kind, 'out', 'work/calibration', iters=4)
    assert not (tmp_path / 'work/calibration').exists()
    meta.write_text(json.dumps({'images': 3}))
    check_proposals_cover_pool(kind.config)  # the whole pool: no error
