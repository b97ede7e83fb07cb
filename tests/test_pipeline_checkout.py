"""DVC stages run the checkout's code, never an older installed copy.

Every stage of dvc.yaml is ``python -m mmproseco.pipeline ...``, which DVC runs from the
repository root: ``-m`` puts that directory first on ``sys.path``, before any installed
copy or ``PYTHONPATH``. The pipeline also refuses to run another copy from inside a
checkout, which is what ``PYTHONSAFEPATH=1`` (or ``python -I``) would otherwise do.
"""
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest
import yaml

from mmproseco.pipeline.__main__ import check_checkout


def stage_commands(repo_root):
    with open(osp.join(repo_root, 'dvc.yaml')) as f:
        stages = yaml.safe_load(f)['stages']
    return {name: stage.get('cmd') or stage['do']['cmd'] for name, stage in stages.items()}


def test_every_stage_runs_the_pipeline_module(repo_root):
    commands = stage_commands(repo_root)
    assert len(commands) >= 10
    for name, cmd in commands.items():
        assert cmd.startswith('python -m mmproseco.pipeline '), (name, cmd)


def installed_copy(repo_root, site):
    """The package as an older install would hold it, in a site directory of its own."""
    shutil.copytree(osp.join(repo_root, 'mmproseco'), site / 'mmproseco',
                    ignore=shutil.ignore_patterns('__pycache__'))
    return site


def run_pipeline(repo_root, extra_env, *args):
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHONSAFEPATH', 'PYTHONPATH')}
    env.update(extra_env)
    return subprocess.run([sys.executable, '-m', 'mmproseco.pipeline', *args], cwd=repo_root,
                          env=env, capture_output=True, text=True, timeout=300)


def test_the_checkout_comes_before_an_installed_copy(repo_root, tmp_path):
    site = installed_copy(repo_root, tmp_path)
    (site / 'mmproseco' / 'pipeline' / '__main__.py').write_text(
        "raise SystemExit('the installed copy ran')\n")
    out = run_pipeline(repo_root, dict(PYTHONPATH=str(site)), '--help')
    assert out.returncode == 0, out.stderr[-2000:]
    assert 'finetune' in out.stdout and 'installed copy' not in out.stderr


def test_another_copy_is_refused_inside_a_checkout(repo_root, tmp_path):
    site = installed_copy(repo_root, tmp_path)
    out = run_pipeline(repo_root, dict(PYTHONPATH=str(site), PYTHONSAFEPATH='1'), '--help')
    assert out.returncode != 0
    assert f"runs the mmproseco of {osp.realpath(site / 'mmproseco')}" in out.stderr
    assert 'not the checkout' in out.stderr


def test_check_checkout_compares_the_imported_package(repo_root, tmp_path):
    check_checkout(repo_root)  # the tests import the checkout's mmproseco
    check_checkout(tmp_path)  # no checkout here: any copy may run
    (tmp_path / 'mmproseco').mkdir()
    (tmp_path / 'mmproseco' / '__init__.py').write_text('')
    with pytest.raises(RuntimeError, match='not the checkout'):
        check_checkout(tmp_path)
