"""DVC's hash of a stage's folder dependencies ignores what git ignores.

A stage that depends on ``mmproseco/`` and ``configs/`` is locked in a fresh repository made
of the tracked files and the checkout's ``.dvcignore``; then Python's caches, build metadata,
editor and OS files are written into both folders, and ``dvc status`` must still see the
stage as up to date. Without the ignore rules the same files change the hash: the rules,
not the test's setup, keep the lock describing the commit.
"""
import os
import os.path as osp
import re
import shutil
import subprocess
import sys

import pytest

BIN = osp.dirname(sys.executable)
#: What Python, pip, editors and operating systems leave in a checkout.
UNTRACKED = ('__pycache__/module.cpython-311.pyc', 'stale.pyc', 'mmproseco.egg-info/PKG-INFO',
             '.ipynb_checkpoints/notes-checkpoint.ipynb', '.module.py.swp', 'module.py~',
             '.DS_Store', 'Thumbs.db')
DEPS = ('mmproseco', 'configs')


def dvc(repo, *args):
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ['PATH'], DVC_NO_ANALYTICS='1')
    out = subprocess.run([sys.executable, '-m', 'dvc', *args], cwd=repo, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def locked_repo(repo_root, path, dvcignore):
    """A git + DVC repository holding the tracked files of ``DEPS`` and a stage that
    depends on them, run once so that dvc.lock holds their hashes."""
    tracked = subprocess.run(['git', 'ls-files', *DEPS], cwd=repo_root, capture_output=True,
                             text=True, check=True).stdout.split()
    for file in tracked:
        os.makedirs(osp.dirname(path / file), exist_ok=True)
        shutil.copy2(osp.join(repo_root, file), path / file)
    subprocess.run(['git', 'init', '-q'], cwd=path, check=True)
    dvc(path, 'init', '-q')
    (path / '.dvcignore').write_text(dvcignore)
    (path / 'dvc.yaml').write_text(
        'stages:\n  code:\n    cmd: python -c pass\n    deps: [' + ', '.join(DEPS) + ']\n')
    dvc(path, 'repro', '-q')
    return path


def write_untracked(repo):
    for dep in DEPS:
        for dirpath in (repo / dep, repo / dep / 'nested'):
            for name in UNTRACKED:
                os.makedirs(osp.dirname(dirpath / name), exist_ok=True)
                (dirpath / name).write_bytes(b'not in the commit')


@pytest.fixture(scope='module')
def dvcignore(repo_root):
    with open(osp.join(repo_root, '.dvcignore')) as f:
        return f.read()


def test_untracked_files_leave_the_hashes_unchanged(repo_root, dvcignore, tmp_path):
    repo = locked_repo(repo_root, tmp_path, dvcignore)
    write_untracked(repo)
    assert 'Data and pipelines are up to date' in dvc(repo, 'status')
    # a real edit of a tracked file is still seen
    with open(repo / 'mmproseco' / '__init__.py', 'a') as f:
        f.write('\n')
    assert re.search(r'modified:\s+mmproseco\n', dvc(repo, 'status'))


def test_without_the_rules_the_same_files_change_the_hashes(repo_root, tmp_path):
    repo = locked_repo(repo_root, tmp_path, '# no rules\n')
    write_untracked(repo)
    status = dvc(repo, 'status')
    assert re.search(r'modified:\s+mmproseco\n', status)
    assert re.search(r'modified:\s+configs\n', status)
