"""``python tools/train.py CONFIG ...``: runs :mod:`mmproseco.tools.train` from this checkout.

The checkout's root goes first on ``sys.path``, so edits take effect without reinstalling
(``mim train mmproseco`` runs the installed copy instead).
"""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmproseco.tools.cli import run_cli  # noqa: E402
from mmproseco.tools.train import main  # noqa: E402

if __name__ == '__main__':
    run_cli(main)
