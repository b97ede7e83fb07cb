"""Detections scored with pycocotools: the one place the pipeline runs ``COCOeval``.

mmdet's ``CocoMetric`` rounds what it reports to 3 decimals, too coarse for the seed
differences of the study, so the stages score prediction dumps (mmdet's
``DumpDetResults``) here and keep COCOeval's numbers as they are.
"""
import contextlib
import io
from typing import List, Optional

from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval


def load_coco(ann_file: str) -> COCO:
    with contextlib.redirect_stdout(io.StringIO()):
        return COCO(ann_file)


def to_coco_results(predictions: List[dict], cat_ids: List[int]) -> List[dict]:
    """mmdet ``DumpDetResults`` entries → COCO result dicts (xywh boxes)."""
    results = []
    for prediction in predictions:
        instances = prediction['pred_instances']
        for box, score, label in zip(instances['bboxes'].tolist(), instances['scores'].tolist(),
                                     instances['labels'].tolist()):
            x1, y1, x2, y2 = box
            results.append(dict(image_id=prediction['img_id'], category_id=cat_ids[label],
                                bbox=[x1, y1, x2 - x1, y2 - y1], score=score))
    return results


def evaluate_bbox(coco: COCO, predictions: List[dict]) -> Optional[COCOeval]:
    """The accumulated bbox ``COCOeval`` of ``predictions`` over the images they cover (a
    dump of a test subset scores that subset), or None when they hold no box.

    ``stats`` then holds the 12 COCO numbers (``stats[0]`` mAP, ``stats[1]`` AP50), and
    ``eval['precision']`` is indexed (IoU, recall, class, area, max dets)."""
    results = to_coco_results(predictions, sorted(coco.getCatIds()))
    if not results:
        return None
    with contextlib.redirect_stdout(io.StringIO()):
        evaluator = COCOeval(coco, coco.loadRes(results), 'bbox')
        evaluator.params.imgIds = sorted({p['img_id'] for p in predictions})
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return evaluator


def bbox_map(ann_file: str, predictions: List[dict]) -> dict:
    """``bbox_mAP`` and ``bbox_mAP_50`` in [0, 1], unrounded (0 without any box)."""
    evaluator = evaluate_bbox(load_coco(ann_file), predictions)
    stats = [0.0, 0.0] if evaluator is None else evaluator.stats[:2]
    return dict(bbox_mAP=float(stats[0]), bbox_mAP_50=float(stats[1]))
