"""``python tools/make_fog.py ...``: runs :mod:`mmproseco.pipeline.fog`.

Like mmdet's tools, it runs the mmproseco that Python imports: the installed copy, or the
checkout with ``PYTHONPATH=.``.
"""
from mmproseco.pipeline.fog import main

if __name__ == '__main__':
    main()
