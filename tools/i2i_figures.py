"""``python tools/i2i_figures.py ...``: runs :mod:`mmproseco.pipeline.i2i_figures`.

Like mmdet's tools, it runs the mmproseco that Python imports: the installed copy, or the
checkout with ``PYTHONPATH=.``.
"""
from mmproseco.pipeline.i2i_figures import main

if __name__ == '__main__':
    main()
