"""``python tools/ranked_report.py ...``: runs :mod:`mmproseco.pipeline.ranked_report`.

Like mmdet's tools, it runs the mmproseco that Python imports: the installed copy, or the
checkout with ``PYTHONPATH=.``.
"""
from mmproseco.pipeline.ranked_report import main
from mmproseco.tools.cli import run_cli

if __name__ == '__main__':
    run_cli(main)
