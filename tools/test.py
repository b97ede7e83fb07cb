"""``python tools/test.py CONFIG ...``: runs :mod:`mmproseco.tools.test` from this checkout.

The checkout's root goes first on ``sys.path``, so edits take effect without reinstalling
(``mim test mmproseco`` runs the installed copy instead).
"""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmproseco.tools.cli import run_cli  # noqa: E402
from mmproseco.tools.test import main  # noqa: E402

if __name__ == '__main__':
    run_cli(main)
