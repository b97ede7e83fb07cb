"""``python -m mmproseco.pipeline STAGE ...``: one stage of dvc.yaml, run from the repository
root with the checkout's code.

``python -m`` puts the working directory first on ``sys.path``, so the ``mmproseco/`` that
DVC hashes as each stage's dependency is the one that runs, never an older installed copy
(``mim train`` runs the installed one). :func:`check_checkout` makes that guarantee
explicit: it refuses to run another copy from inside a checkout, which happens with
``python -I``/``PYTHONSAFEPATH=1``, that leave the working directory off ``sys.path``.
"""
import os
import os.path as osp
import sys

import mmproseco


def tools():
    """The stages that are a module's own command line."""
    from . import fog, i2i_figures, i2i_report, params, ranked_report, report, splits
    return {'splits': splits.main, 'split': splits.split_main, 'fog': fog.main,
            'ranked-report': ranked_report.main, 'report': report.main,
            'profile': params.main, 'i2i-report': i2i_report.main,
            'i2i-figures': i2i_figures.main}


def check_checkout(cwd=None):
    """Raise if ``cwd`` holds an mmproseco checkout other than the imported package."""
    cwd = osp.realpath(cwd or os.getcwd())
    imported = osp.realpath(osp.dirname(mmproseco.__file__))
    checkout = osp.join(cwd, 'mmproseco')
    if osp.isfile(osp.join(checkout, '__init__.py')) and imported != checkout:
        raise RuntimeError(
            f'the pipeline runs the mmproseco of {imported}, not the checkout in {cwd}, '
            'whose code DVC hashes; run `python -m mmproseco.pipeline` from the checkout '
            'without -I or PYTHONSAFEPATH')


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    check_checkout()
    if argv and argv[0] in tools():
        return tools()[argv[0]](argv[1:])
    from .stages import main as stages_main
    return stages_main(argv)


if __name__ == '__main__':
    from mmproseco.tools.cli import run_cli
    run_cli(main)
