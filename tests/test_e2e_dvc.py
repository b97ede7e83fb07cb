"""End to end: the smoke profile (`python -m mmproseco.pipeline profile smoke`: one fraction,
one seed, the ceiling and one delta) runs the whole graph on a clone of this checkout, one
stage at a time, every number of the report traces to a metrics file, and DVC then knows
exactly which stages a parameter change touches."""
import glob
import json
import os
import os.path as osp
import re
import shutil
import subprocess
import sys

import pytest
import torch
import yaml

pytestmark = pytest.mark.e2e
BIN = osp.dirname(sys.executable)


def sh(cmd, cwd, timeout=1800):
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ['PATH'], DVC_NO_ANALYTICS='1')
    env.pop('PYTHONPATH', None)  # `python -m mmproseco.pipeline` imports the clone's code
    out = subprocess.run(cmd, cwd=cwd, env=env, shell=True, capture_output=True, text=True,
                         timeout=timeout)
    assert out.returncode == 0, f'{cmd}\n{out.stdout[-4000:]}\n{out.stderr[-4000:]}'
    return out.stdout + out.stderr


@pytest.fixture(scope='module')
def clone(tmp_path_factory, repo_root):
    """A git clone with the checkout's uncommitted edits and the embedded data."""
    repo = tmp_path_factory.mktemp('dvc') / 'repo'
    sh(f'git clone -q --no-hardlinks {repo_root} {repo}', repo_root)
    deleted = subprocess.run('git ls-files -d', cwd=repo_root, shell=True,
                             capture_output=True, text=True).stdout.split()
    for path in deleted:
        if osp.exists(repo / path):
            os.remove(repo / path)
    changed = subprocess.run('git ls-files -m -o --exclude-standard', cwd=repo_root, shell=True,
                             capture_output=True, text=True).stdout.split()
    for path in changed:
        if osp.isfile(osp.join(repo_root, path)):
            os.makedirs(osp.dirname(repo / path) or '.', exist_ok=True)
            shutil.copy2(osp.join(repo_root, path), repo / path)
    if osp.isdir(osp.join(repo_root, 'data', 'shapes')):
        sh(f'cp -al {repo_root}/data data', repo)  # hard links: no copy of 150 MB
    else:
        sh(f'{sys.executable} tools/prepare_data.py --out data --seed 0', repo)
    sh('dvc config --local cache.type hardlink,symlink', repo)
    # Without the committed metrics, timings and curves, every file there is this run's.
    for folder in ('metrics', 'timings', 'curves'):
        shutil.rmtree(repo / 'results' / folder, ignore_errors=True)
    return repo


def test_smoke_profile_runs_the_whole_graph(clone):
    # One fraction and one seed (the ranked branch's too: study.ranked_seeds) keep the suite
    # within its 20-minute budget: every stage is a process that pays ~8 s of imports and
    # DVC book-keeping before any work. The mean ± std path is covered by test_report.py.
    sh('python -m mmproseco.pipeline profile smoke', clone)
    sh('dvc exp run', clone)
    # data.dvc still matches the rebuilt data, and nothing is left to run
    status = sh('dvc status', clone)
    assert 'Data and pipelines are up to date' in status, status
    report = open(clone / 'results' / 'report.md').read()
    study = yaml.safe_load(open(clone / 'params.yaml'))['study']
    runs = [r for r in (json.load(open(p)) for p in
                        glob.glob(str(clone / 'results/metrics/finetune/*.json')))
            if r['seed'] in study['seeds'] and r['fraction'] in study['fractions']]
    expected = 4 * len(study['fractions']) * len(study['seeds'])
    assert len(runs) == expected
    # every cell of report.json is the mean of the unrounded test mAP of its method's
    # metrics files, and report.md shows it as a percentage with 2 decimals
    summary = json.load(open(clone / 'results' / 'report.json'))
    for method in ('scratch', 'proseco', 'sce', 'detreg'):
        for fraction in study['fractions']:
            values = [r['bbox_mAP'] for r in runs
                      if r['method'] == method and r['fraction'] == fraction]
            cell = summary['finetune'][method][f'{float(fraction):g}']
            assert cell['values'] == values and cell['n'] == len(values)
            assert cell['mean'] == pytest.approx(sum(values) / len(values), abs=1e-12)
            row = next(line for line in report.splitlines() if line.startswith('|')
                       and method_name(method) in line)
            assert f"{100 * cell['mean']:.2f}" in row
    # each fine-tuning run, the ceiling and the delta runs record the study's fields
    metrics = clone / 'results' / 'metrics'
    seed = study['seeds'][0]
    others = [json.load(open(metrics / 'ceiling' / f'seed{s}.json'))
              for s in study['ceiling_seeds']]
    others += [json.load(open(metrics / 'delta' / 'finetune' / f'delta{d}_seed{seed}.json'))
               for d in study['deltas']]
    assert [r['method'] for r in others] == ['ceiling'] + ['proseco'] * len(study['deltas'])
    assert [r['delta'] for r in others[1:]] == study['deltas']
    for run in runs + others:
        assert 0 <= run['bbox_mAP'] <= 1 and 0 <= run['bbox_mAP_50'] <= 1
        assert len(run['val_history']) == 4  # the smoke profile's validations
        assert run['last_val_iter'] == run['val_history'][-1]['iter'] == run['iters']
        assert run['best_val_iter'] in [v['iter'] for v in run['val_history']]
        assert isinstance(run['converged'], bool)
    for png in ('map_vs_fraction.png', 'training_curves.png', 'pretraining_dynamics.png'):
        assert (clone / 'results' / png).stat().st_size > 1000
    assert osp.isfile(clone / 'results' / 'i2i' / 'report.json')
    # Every checkpoint the graph keeps loads with torch's safe loader: the backbone and the
    # exported pretrainings, the fine-tuned detectors, the ceiling, the baselines and the
    # I2I adapters.
    kept = glob.glob(str(clone / 'work' / '**' / '*.pth'), recursive=True)
    for kind in (f'backbone/seed{seed}/', f'pretrain/proseco_seed{seed}/detector.pth',
                 f'pretrain/proseco-delta{study["deltas"][0]}_seed{seed}/', 'finetune/',
                 f'ceiling/seed{seed}/', 'i2i/', 'baselines/'):
        assert any(kind in path for path in kept), kind
    for path in kept:
        assert torch.load(path, map_location='cpu', weights_only=True)['state_dict'], path
    # The teacher-student pretrainings say how far their teacher moved from its start, and
    # ProSeCo how many positives its queries had.
    for method in ('proseco', 'sce'):
        moved = json.load(open(metrics / 'pretrain' / f'{method}_seed{seed}.json'))
        assert moved['teacher_init_distance'] > 0 and moved['student_init_distance'] > 0
        assert moved['mean_positives_per_query'] >= 1
    # DVC ran the stages one at a time (issue 13): their [started, ended] never overlap.
    timings = [json.load(open(p)) for p in
               glob.glob(str(clone / 'results' / 'timings' / '**' / '*.json'), recursive=True)]
    intervals = sorted((t['started'], t['ended']) for t in timings)
    assert len(intervals) >= 20  # every training stage and the proposals
    for (_, ended), (started, _) in zip(intervals, intervals[1:]):
        assert ended <= started


def method_name(method):
    from mmproseco.pipeline.report import METHOD_NAMES
    return METHOD_NAMES[method]


def changed_stages(clone, edit):
    """The params after ``edit(params)`` and the stages ``dvc status`` then lists as
    changed; params.yaml is restored afterwards."""
    params_file = clone / 'params.yaml'
    text = params_file.read_text()
    params = yaml.safe_load(text)
    edit(params)
    params_file.write_text(yaml.safe_dump(params, sort_keys=False))
    try:
        status = sh('dvc status', clone)
    finally:
        params_file.write_text(text)
    return params, set(re.findall(r'^(\S+):', status, re.M))


def test_adding_a_seed_touches_only_its_stages(clone):
    """A new seed adds its own chain (backbone, random init, pretrainings, splits,
    fine-tuning and delta runs) and reruns the report; the stages of the existing seeds and
    the other branches stay as they are."""
    def add_seed(params):
        for study in (params['study'], params['profiles'][params['profile']]['study']):
            study['seeds'].append(max(study['seeds']) + 7)

    params, changed = changed_stages(clone, add_seed)
    study = params['study']
    new_seed = study['seeds'][-1]
    chain = {f'backbone@{new_seed}', f'random_init@{new_seed}',
             *(f'pretrain@{m}-{new_seed}' for m in params['pretrain']),
             *(f'split@{f}-{new_seed}' for f in study['fractions']),
             *(f'delta_pretrain@{d}-{new_seed}' for d in study['deltas'])}
    assert chain <= changed, chain - changed
    assert any(s.startswith('finetune@') and s.endswith(f'-{new_seed}') for s in changed)
    assert all(s == 'report' or s.endswith((f'@{new_seed}', f'-{new_seed}'))
               for s in changed), changed


@pytest.mark.parametrize('size, readers', [
    ('ranked_iters', ('ranked@',)),
    ('backbone_iters', ('backbone@',)),
    ('ceiling_iters', ('ceiling@',)),
])
def test_a_size_change_touches_only_the_stages_that_read_it(clone, size, readers):
    """Each stage depends on the size keys its command reads, not on the whole profile:
    calibrating the ranked branch later must not rerun the ProSeCo chain."""
    def lengthen(params):
        params['profiles'][params['profile']]['sizes'][size] += 2

    _, changed = changed_stages(clone, lengthen)
    assert changed and all(s.startswith(readers) for s in changed), changed
