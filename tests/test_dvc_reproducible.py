"""A training stage's outputs depend only on its inputs, and a DVC remote shares them.

On a clone of this checkout with a tiny shapes set and the smoke profile, the ``split``
and ``backbone`` stages of seed 0 run; ``backbone`` (image-level SCE, a real training run) then runs
again and every output hash in dvc.lock stays the same. The outputs go to a local-directory
remote, a second clone pulls them without running anything, and ``dvc status`` is clean
there: its code, params, data and outputs match the lock written in the first clone.
"""
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest
import torch
import yaml

pytestmark = pytest.mark.e2e
BIN = osp.dirname(sys.executable)
STAGES = ('data.dvc', 'split@10-0', 'backbone@0')
GIT_USER = dict(GIT_AUTHOR_NAME='t', GIT_AUTHOR_EMAIL='t@t', GIT_COMMITTER_NAME='t',
                GIT_COMMITTER_EMAIL='t@t')


def sh(cmd, cwd, timeout=900):
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ['PATH'], DVC_NO_ANALYTICS='1',
               **GIT_USER)
    env.pop('PYTHONPATH', None)  # the stages import the clone's code on their own
    out = subprocess.run(cmd, cwd=cwd, env=env, shell=True, capture_output=True, text=True,
                         timeout=timeout)
    assert out.returncode == 0, f'{cmd}\n{out.stdout[-4000:]}\n{out.stderr[-4000:]}'
    return out.stdout + out.stderr


def clone_checkout(repo_root, repo):
    """A git clone of the checkout, its uncommitted edits included."""
    sh(f'git clone -q --no-hardlinks {repo_root} {repo}', repo_root)
    git = dict(cwd=repo_root, capture_output=True, text=True, check=True)
    for path in subprocess.run(['git', 'ls-files', '-d'], **git).stdout.split():
        if osp.exists(repo / path):
            os.remove(repo / path)
    for path in subprocess.run(['git', 'ls-files', '-m', '-o', '--exclude-standard'],
                               **git).stdout.split():
        if osp.isfile(osp.join(repo_root, path)):
            os.makedirs(osp.dirname(repo / path) or '.', exist_ok=True)
            shutil.copy2(osp.join(repo_root, path), repo / path)


def locked_outs(repo, stage):
    """{path: md5} of the outputs, metrics and plots of ``stage`` in dvc.lock, but its
    timings: the seconds a run took are the one output that may differ, so they sit in an
    uncached metrics file that no cached output depends on."""
    with open(repo / 'dvc.lock') as f:
        entry = yaml.safe_load(f)['stages'][stage]
    return {out['path']: out['md5'] for out in entry['outs']
            if not out['path'].startswith('results/timings/')}


@pytest.fixture(scope='module')
def first(tmp_path_factory, repo_root):
    """The first clone, after `dvc repro backbone@0 split@10-0` with tiny data."""
    root = tmp_path_factory.mktemp('dvc_remote')
    repo = root / 'first'
    clone_checkout(repo_root, repo)
    sh(f'{sys.executable} tools/prepare_data.py --out data --datasets shapes '
       '--shapes-sizes 16 4 4', repo)
    sh('python -m mmproseco.pipeline profile smoke', repo)
    assert yaml.safe_load((repo / 'params.yaml').read_text())['study']['fractions'] == [10]
    sh('dvc repro backbone@0 split@10-0', repo)  # data.dvc takes the tiny data's hash
    return repo


def test_a_training_stage_twice_gives_the_same_outputs(first):
    before = locked_outs(first, 'backbone@0')
    assert 'work/backbone/seed0/backbone.pth' in before
    assert any(path.startswith('results/curves/') for path in before)
    sh('dvc repro --force --no-run-cache backbone@0', first)
    assert locked_outs(first, 'backbone@0') == before
    # the weights load safely and carry nothing of the machine or the clock
    checkpoint = torch.load(first / 'work' / 'backbone' / 'seed0' / 'backbone.pth',
                            weights_only=True)
    assert set(checkpoint) == {'state_dict', 'meta'}
    assert set(checkpoint['meta']) <= {'dataset_meta', 'epoch', 'iter'}
    # mmengine's own files stay beside the output, outside what DVC hashes
    assert list((first / 'work' / 'backbone' / 'seed0' / 'mmengine').glob(
        '*/vis_data/scalars.json'))
    assert osp.isfile(first / 'results' / 'timings' / 'pretrain' /
                      'image-sce-backbone_seed0.json')


def test_a_second_clone_pulls_the_outputs_and_is_up_to_date(first):
    remote = first.parent / 'remote'
    sh(f'dvc remote add -d shared {remote}', first)
    sh('git add -A && git commit -q -m "smoke run" && dvc push ' + ' '.join(STAGES), first)
    second = first.parent / 'second'
    sh(f'git clone -q {first} {second}', first.parent)
    assert not (second / 'work').exists()
    sh('dvc pull ' + ' '.join(STAGES), second)
    assert 'Data and pipelines are up to date' in sh('dvc status ' + ' '.join(STAGES), second)
    assert ((second / 'work' / 'backbone' / 'seed0' / 'backbone.pth').read_bytes() ==
            (first / 'work' / 'backbone' / 'seed0' / 'backbone.pth').read_bytes())
