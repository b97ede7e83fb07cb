"""Entry point of ``mim train mmproseco``; the implementation is :mod:`mmproseco.tools.train`."""
from mmproseco.tools.cli import run_cli
from mmproseco.tools.train import main

if __name__ == '__main__':
    run_cli(main)
