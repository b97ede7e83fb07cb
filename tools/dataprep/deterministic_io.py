"""Byte-reproducible writers for the generated datasets.

``dvc repro`` on a fresh clone re-creates ``data/`` and compares hashes, so every file must
come out identical on every run: PNGs are written by PIL with fixed settings and no metadata,
JSON with sorted keys, compact separators and floats rounded to a fixed number of decimals.
"""
import json
import os
import os.path as osp
import shutil

import numpy as np
from PIL import Image

#: zlib level of every PNG; changing it changes all hashes in ``dvc.lock``.
PNG_COMPRESS_LEVEL = 6
#: Decimals kept for every float written to JSON (boxes are in pixels; 0.01 px is plenty).
FLOAT_DECIMALS = 2


class PrepareDataError(RuntimeError):
    """A data source is missing or wrong; the message says which and how to fix it."""


def round_floats(obj, decimals=FLOAT_DECIMALS):
    """Return ``obj`` with every float, at any depth, rounded to ``decimals``."""
    if isinstance(obj, float):
        return round(obj, decimals)
    if isinstance(obj, dict):
        return {key: round_floats(value, decimals) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [round_floats(value, decimals) for value in obj]
    return obj


def dump_json(obj, path):
    """Write ``obj`` as compact JSON with sorted keys and rounded floats."""
    text = json.dumps(round_floats(obj), sort_keys=True, separators=(',', ':'))
    with open(path, 'w', encoding='utf-8', newline='\n') as f:
        f.write(text + '\n')


def save_png(rgb, path):
    """Write an ``(H, W, 3)`` uint8 RGB array as a PNG without metadata."""
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f'expected an (H, W, 3) uint8 array, got {rgb.dtype} {rgb.shape}')
    Image.fromarray(rgb, mode='RGB').save(
        path, format='PNG', compress_level=PNG_COMPRESS_LEVEL, optimize=False)


class StagingDir:
    """Build a dataset folder next to its destination and swap it in when complete.

    An interrupted run therefore never leaves a half-written dataset behind, and files of
    an earlier, larger build cannot survive into a smaller one.
    """

    def __init__(self, final_dir):
        self.final_dir = final_dir
        parent, name = osp.split(osp.normpath(final_dir))
        self.path = osp.join(parent, f'.{name}.partial')

    def __enter__(self):
        shutil.rmtree(self.path, ignore_errors=True)
        os.makedirs(self.path)
        return self.path

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            return False
        shutil.rmtree(self.final_dir, ignore_errors=True)
        os.replace(self.path, self.final_dir)
        return False
