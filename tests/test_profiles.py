"""Profiles decide the graph: `python -m mmproseco.pipeline profile NAME` copies a profile's
lists into params.yaml's `study` (nothing else changes), the stages refuse a study that is not
the profile's, and `dvc stage list` at each profile names exactly the stages of the study."""
import collections
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from mmproseco.pipeline.params import load_params, switch_profile
from mmproseco.pipeline.stages import validation_options

BIN = os.path.dirname(sys.executable)


def copy_params(repo_root, tmp_path):
    path = tmp_path / 'params.yaml'
    shutil.copy(os.path.join(repo_root, 'params.yaml'), path)
    return path


def test_the_committed_params_are_at_their_profile(repo_root):
    params = load_params(os.path.join(repo_root, 'params.yaml'))
    assert params['size'] == params['profiles'][params['profile']]['sizes']


@pytest.mark.parametrize('name', ['full', 'smoke', 'default'])
def test_every_fine_tuning_length_splits_into_its_validations(repo_root, name):
    """A length that does not split would stop its stage only when it starts, hours in."""
    params = load_params(os.path.join(repo_root, 'params.yaml'))
    sizes = params['profiles'][name]['sizes']
    config = os.path.join(repo_root, params['finetune_config'])
    for iters in [*sizes['finetune_iters'].values(), sizes['ceiling_iters']]:
        options = validation_options(config, iters, sizes['validations'])
        assert options['train_cfg.val_interval'] > 0


@pytest.mark.parametrize('name', ['full', 'smoke', 'default'])
def test_switching_rewrites_only_the_profile_and_the_study(repo_root, tmp_path, name):
    path = copy_params(repo_root, tmp_path)
    before = path.read_text().splitlines()
    study = switch_profile(name, str(path))
    after = path.read_text().splitlines()
    params = load_params(str(path))
    assert params['profile'] == name and params['study'] == study
    assert study == params['profiles'][name]['study']
    # every other line, comments included, is as it was
    start = before.index(next(line for line in before if line.startswith('study:')))
    end = start + 1 + len(study)
    assert after[:start] == [re.sub(r'^profile: \S+', f'profile: {name}', line)
                             for line in before[:start]]
    assert after[start] == before[start]  # `study:` and its comment
    assert after[end:] == before[end:]
    switch_profile('default', str(path))
    assert path.read_text().splitlines() == before  # the committed file is at 'default'


def test_a_study_that_is_not_the_profiles_is_refused(repo_root, tmp_path):
    path = copy_params(repo_root, tmp_path)
    path.write_text(path.read_text().replace('  seeds: [0, 1, 2]\n  fractions',
                                             '  seeds: [0, 1]\n  fractions'))
    with pytest.raises(ValueError, match=rf'{re.escape(str(path))}.*'
                       r'python -m mmproseco\.pipeline profile default'):
        load_params(str(path))
    with pytest.raises(ValueError, match="profile 'gpu' is not one of"):
        switch_profile('gpu', str(path))


def test_the_cli_switches_and_a_stage_reports_a_stale_study_in_one_line(repo_root, tmp_path):
    """Through `python -m mmproseco.pipeline` (run_cli's error path), outside a checkout."""
    path = copy_params(repo_root, tmp_path)
    env = dict(os.environ, PYTHONPATH=repo_root)

    def cli(*args):
        return subprocess.run([sys.executable, '-m', 'mmproseco.pipeline', *args],
                              cwd=tmp_path, env=env, capture_output=True, text=True)

    out = cli('profile', 'full')
    assert out.returncode == 0, out.stderr
    assert yaml.safe_load(path.read_text())['study']['seeds'] == [0, 1, 2, 3, 4]
    path.write_text(path.read_text().replace('profile: full', 'profile: smoke'))
    out = cli('random-init', 'config.py', '--seed', '0', '--out', 'a.pth', '--metrics', 'a.json',
              '--timings', 't.json')
    assert out.returncode == 2
    assert out.stderr.splitlines()[0] == (
        'error: the study lists of params.yaml are not those of profiles.smoke.study; run '
        '`python -m mmproseco.pipeline profile smoke` to copy them')
    assert 'Traceback' not in out.stderr


def stage_list(repo_root, tmp_path, profile):
    """`dvc stage list` in a copy of the repository's graph switched to ``profile``:
    ``{kind: [stage names]}`` and DVC's stages (their deps and outs)."""
    repo = tmp_path / 'repo'
    repo.mkdir()
    for name in ('dvc.yaml', 'params.yaml'):
        shutil.copy(os.path.join(repo_root, name), repo / name)
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ['PATH'], DVC_NO_ANALYTICS='1')
    for cmd in ('git init -q', 'dvc init -q'):
        subprocess.run(cmd, shell=True, cwd=repo, env=env, check=True)
    switch_profile(profile, str(repo / 'params.yaml'))
    out = subprocess.run('dvc stage list --name-only', shell=True, cwd=repo, env=env,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    kinds = collections.defaultdict(list)
    for name in out.stdout.split():
        kinds[name.split('@')[0]].append(name)
    from dvc.repo import Repo
    with Repo(str(repo)) as dvc:
        stages = {s.name: s for s in dvc.index.stages}
    assert set(stages) == set(out.stdout.split())
    return kinds, stages


def expected_study_stages(study, ranked_methods, i2i, methods=('proseco', 'sce', 'detreg')):
    seeds, fractions, deltas = study['seeds'], study['fractions'], study['deltas']
    return dict(
        i2i_adapter={f'i2i_adapter@{scenario}-{adapter}-{s}' for scenario in i2i['scenarios']
                     for adapter in i2i['adapters'] for s in study['i2i_seeds']},
        split={f'split@{f}-{s}' for f in fractions for s in seeds},
        backbone={f'backbone@{s}' for s in seeds},
        random_init={f'random_init@{s}' for s in seeds},
        pretrain={f'pretrain@{m}-{s}' for m in methods for s in seeds},
        finetune={f'finetune@{m}-{f}-{s}' for m in ('scratch', *methods) for f in fractions
                  for s in seeds},
        ceiling={f'ceiling@{s}' for s in study['ceiling_seeds']},
        delta_pretrain={f'delta_pretrain@{d}-{s}' for d in deltas for s in seeds},
        delta_finetune={f'delta_finetune@{d}-{s}' for d in deltas for s in seeds},
        ranked={f'ranked@{m}-{s}' for m in ranked_methods for s in study['ranked_seeds']})


def seed_of_path(path):
    found = re.search(r'seed(\d+)', path)
    return None if found is None else int(found.group(1))


@pytest.mark.parametrize('profile,counts', [
    ('full', dict(split=15, backbone=5, random_init=5, pretrain=15, finetune=60, ceiling=3,
                  delta_pretrain=20, delta_finetune=20, ranked=20, i2i_adapter=30)),
    ('default', dict(split=3, backbone=3, random_init=3, pretrain=9, finetune=12, ceiling=1,
                     delta_pretrain=0, delta_finetune=0, ranked=12, i2i_adapter=18)),
])
def test_stage_list_of_a_profile(repo_root, tmp_path, profile, counts):
    kinds, stages = stage_list(repo_root, tmp_path, profile)
    params = yaml.safe_load(open(os.path.join(repo_root, 'params.yaml')))
    study = params['profiles'][profile]['study']
    expected = expected_study_stages(study, params['ranked']['methods'], params['i2i'])
    assert {kind: len(names) for kind, names in expected.items()} == counts
    for kind, names in expected.items():
        assert set(kinds.get(kind, [])) == names, kind  # an empty list: no stage, no error
    others = collections.Counter({k: len(v) for k, v in kinds.items() if k not in expected})
    # per I2I scenario: its fog, source detector, oracle and figures
    assert others == dict(baseline=2, proposals=1, ranked_report=1, fog=2,
                          i2i_source=2, i2i_oracle=2, i2i_figures=2, i2i_report=1, report=1)
    # One chain per seed: every seeded file a stage reads or writes is of the stage's seed,
    # and the methods of a seed fine-tune from its pretrainings and split.
    for name, stage in stages.items():
        seed = name.rsplit('-', 1)[-1] if '-' in name else name.partition('@')[2]
        paths = [str(d.def_path) for d in stage.deps] + [str(o.def_path) for o in stage.outs]
        seeded = {seed_of_path(p) for p in paths} - {None}
        if name.split('@')[0] in expected:
            assert seeded == {int(seed)}, (name, paths)
    for f in study['fractions']:
        for s in study['seeds']:
            deps = {str(d.def_path) for d in stages[f'finetune@proseco-{f}-{s}'].deps}
            assert {f'work/pretrain/proseco_seed{s}/detector.pth',
                    f'work/splits/shapes/train@{f}pct_seed{s}.json'} <= deps
    for s in study['ceiling_seeds']:
        deps = {str(d.def_path) for d in stages[f'ceiling@{s}'].deps}
        assert {f'work/pretrain/scratch_seed{s}/detector.pth',
                'data/shapes/annotations/train.json'} <= deps
    # a seed re-draws only the adapter's training: every adapter of a scenario is in front
    # of the scenario's one source detector
    for name in expected['i2i_adapter']:
        scenario = next(sc for sc in params['i2i']['scenarios'] if name.startswith(
            f'i2i_adapter@{sc}-'))
        deps = {str(d.def_path) for d in stages[name].deps}
        assert f'work/i2i/{scenario}/source/final.pth' in deps
        assert f'--seed {seed_of_path(stages[name].cmd)} ' in stages[name].cmd
    for d in study['deltas']:
        for s in study['seeds']:
            cmd = stages[f'delta_pretrain@{d}-{s}'].cmd
            assert f'loss_contrast.pos_iou_thr={d} ' in cmd, cmd
            deps = {str(dep.def_path) for dep in stages[f'delta_finetune@{d}-{s}'].deps}
            assert f'work/pretrain/proseco-delta{d}_seed{s}/detector.pth' in deps
