"""Entry point of ``mim test mmproseco``; the implementation is :mod:`mmproseco.tools.test`."""
from mmproseco.tools.cli import run_cli
from mmproseco.tools.test import main

if __name__ == '__main__':
    run_cli(main)
