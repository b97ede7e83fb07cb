"""``python tools/selective_search.py ...``: runs :mod:`mmproseco.pipeline.selective_search`.

Like mmdet's tools, it runs the mmproseco that Python imports: the installed copy, or the
checkout with ``PYTHONPATH=.``.
"""
from mmproseco.pipeline.selective_search import main

if __name__ == '__main__':
    main()
