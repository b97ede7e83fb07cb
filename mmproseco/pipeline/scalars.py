"""mmengine's logged scalars, read in one place, and the curves file each training stage keeps.

mmengine writes ``<work_dir>/<timestamp>/vis_data/scalars.json`` (JSON lines): one record
per logged training iteration (``iter``, ``lr``, the losses, ``time``, ``data_time``) and
one per validation (the metrics, ``step``). The timestamped folder and the timings make it
differ between two identical runs, so a stage keeps only its curves: iterations, losses and
validation metrics, written as a JSON list (which ``dvc plots`` reads).
"""
import glob
import json
import os.path as osp

from .files import write_json


def read_scalars(path):
    """The records of ``path``: a ``scalars.json`` file, or a work dir whose runs' files
    are read oldest first (their folders are timestamps, so sorted means chronological)."""
    files = [path] if osp.isfile(path) else sorted(
        glob.glob(osp.join(path, '*', 'vis_data', 'scalars.json')))
    records = []
    for file in files:
        with open(file) as f:
            records += [json.loads(line) for line in f if line.strip()]
    return records


def training_curves(records):
    """The points of a run's curves: ``iter`` with the losses of a training record, or
    with the metrics (keys such as ``coco/bbox_mAP``) of a validation record.

    Iteration-based runs log validations with ``step`` = epoch 0, so each validation is
    placed at the iteration of the training record before it.
    """
    points, last_iter = [], 0
    for record in records:
        losses = {k: v for k, v in record.items() if k.startswith('loss')}
        if losses:
            last_iter = record['iter']
            points.append(dict(iter=last_iter, **losses))
            continue
        metrics = {k: v for k, v in record.items() if '/' in k}
        if metrics:
            points.append(dict(iter=last_iter, **metrics))
    return points


def last_losses(points):
    """The losses of the last training point ({} if the run logged none)."""
    train = [p for p in points if any(k.startswith('loss') for k in p)]
    return {k: v for k, v in train[-1].items() if k != 'iter'} if train else {}


def write_curves(work_dir, path):
    """Write the curves of the runs under ``work_dir`` to ``path``; return the points."""
    points = training_curves(read_scalars(work_dir))
    write_json(path, points)
    return points


def read_curves(path):
    with open(path) as f:
        return json.load(f)
