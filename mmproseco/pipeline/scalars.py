"""mmengine's logged scalars, read in one place, and the curves file each training stage keeps.

mmengine writes ``<work_dir>/<timestamp>/vis_data/scalars.json`` (JSON lines): one record
per logged training iteration (``iter``, ``lr``, the losses, ``time``, ``data_time``) and
one per validation (the metrics, ``step``). The timestamped folder and the timings make it
differ between two identical runs, so a stage keeps only its curves: iterations, losses, the
diagnostics of a teacher-student pretraining and validation metrics, written as a JSON list
(which ``dvc plots`` reads).
"""
import glob
import json
import os.path as osp

from .files import write_json

#: Scalars logged every logging interval besides the losses, kept in the curves:
#: TeacherEMAHook's momentum and parameter distances, LocSCEHead's mean |P(i)| and
#: matched-pair cosine.
DIAGNOSTICS = ('ema_momentum', 'teacher_student_distance', 'teacher_init_distance',
               'student_init_distance', 'positives_per_query', 'matched_cos')


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
    """The points of a run's curves: ``iter`` with the losses and :data:`DIAGNOSTICS` of a
    training record, or with the metrics (keys such as ``coco/bbox_mAP``) of a validation
    record.

    The pipeline's runs log a validation with ``step`` = its iteration (``LoggerHook``'s
    ``log_metric_by_epoch=False``, set by :func:`mmproseco.pipeline.stages.timed_train`);
    otherwise (``step`` = epoch 0 of an iteration-based run) a validation is placed at the
    iteration of the training record before it.
    """
    points, last_iter = [], 0
    for record in records:
        kept = {k: v for k, v in record.items() if k.startswith('loss') or k in DIAGNOSTICS}
        if kept:
            last_iter = record['iter']
            points.append(dict(iter=last_iter, **kept))
            continue
        metrics = {k: v for k, v in record.items() if '/' in k}
        if metrics:
            points.append(dict(iter=max(record.get('step', 0), last_iter), **metrics))
    return points


def last_losses(points):
    """The losses of the last training point ({} if the run logged none)."""
    train = [p for p in points if any(k.startswith('loss') for k in p)]
    return {k: v for k, v in train[-1].items() if k.startswith('loss')} if train else {}


def val_history(points, metric='coco/bbox_mAP'):
    """``[{iter, bbox_mAP}]``: ``metric`` at every validation of the curves, in order (the
    values as the evaluator logged them: mmdet's CocoMetric rounds to 3 decimals)."""
    return [dict(iter=p['iter'], bbox_mAP=p[metric]) for p in points if metric in p]


def write_curves(work_dir, path):
    """Write the curves of the runs under ``work_dir`` to ``path``; return the points."""
    points = training_curves(read_scalars(work_dir))
    write_json(path, points)
    return points


def read_curves(path):
    with open(path) as f:
        return json.load(f)
