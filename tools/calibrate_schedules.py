"""``python tools/calibrate_schedules.py --kind ...``: runs :mod:`mmproseco.pipeline.calibration`.

Like mmdet's tools, it runs the mmproseco that Python imports: the installed copy, or the
checkout with ``PYTHONPATH=.``.
"""
from mmproseco.pipeline.calibration import main
from mmproseco.tools.cli import run_cli

if __name__ == '__main__':
    run_cli(main)
