"""``python tools/i2i_report.py ...``: runs :mod:`mmproseco.pipeline.i2i_report`.

Like mmdet's tools, it runs the mmproseco that Python imports: the installed copy, or the
checkout with ``PYTHONPATH=.``.
"""
from mmproseco.pipeline.i2i_report import main

if __name__ == '__main__':
    main()
