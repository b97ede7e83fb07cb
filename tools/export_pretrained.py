"""``python tools/export_pretrained.py ...``: runs :mod:`mmproseco.pipeline.checkpoints`.

Like mmdet's tools, it runs the mmproseco that Python imports: the installed copy, or the
checkout with ``PYTHONPATH=.``.
"""
from mmproseco.pipeline.checkpoints import main
from mmproseco.tools.cli import run_cli

if __name__ == '__main__':
    run_cli(main)
