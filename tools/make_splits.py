"""``python tools/make_splits.py ...``: runs :mod:`mmproseco.pipeline.splits`.

Like mmdet's tools, it runs the mmproseco that Python imports: the installed copy, or the
checkout with ``PYTHONPATH=.``.
"""
from mmproseco.pipeline.splits import main

if __name__ == '__main__':
    main()
