"""``python tools/study_backbone_init.py ...``: runs :mod:`mmproseco.pipeline.study_backbone_init`.

Like mmdet's tools, it runs the mmproseco that Python imports: the installed copy, or the
checkout with ``PYTHONPATH=.``.
"""
from mmproseco.pipeline.study_backbone_init import main
from mmproseco.tools.cli import run_cli

if __name__ == '__main__':
    run_cli(main)
