"""Run a trained mmdet detector over the images of a COCO json and save its boxes as COCO.

The output has the input's ``images`` and ``categories`` and one annotation per detection
(``bbox`` as ``[x, y, w, h]``, ``category_id`` from the predicted class, ``score`` kept), so
``ObjectCropDataset`` reads it like ground truth. Example::

    python tools/detect_boxes.py configs/faster_rcnn/CONFIG.py work_dirs/.../epoch_12.pth \\
        --ann data/shapes/annotations/test.json --out results/shapes_test_dets.json \\
        --score-thr 0.3
"""
import argparse
import json
import os
import os.path as osp
from typing import List

import numpy as np


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Detections of an mmdet model as COCO json')
    parser.add_argument('config', help='detector config')
    parser.add_argument('checkpoint', help='detector checkpoint')
    parser.add_argument('--ann', required=True, help='COCO json whose images to run on')
    parser.add_argument('--out', required=True, help='output COCO json of detections')
    parser.add_argument('--img-dir', help='folder of the images; default: the config\'s '
                        'test_dataloader data_root + data_prefix.img')
    parser.add_argument('--score-thr', type=float, default=0.3, help='keep scores >= this')
    parser.add_argument('--batch-size', type=int, default=8, help='images per forward pass')
    parser.add_argument('--device', default='cpu', help='torch device, e.g. cuda:0')
    return parser.parse_args(argv)


def detections_to_annotations(image_id: int, bboxes: np.ndarray, scores: np.ndarray,
                              labels: np.ndarray, category_ids: List[int],
                              first_id: int) -> List[dict]:
    """COCO annotations of one image's ``(n, 4)`` xyxy boxes, ``(n,)`` scores and labels."""
    annotations = []
    for i, ((x1, y1, x2, y2), score, label) in enumerate(zip(bboxes, scores, labels)):
        width, height = float(x2 - x1), float(y2 - y1)
        annotations.append(dict(
            id=first_id + i, image_id=image_id, category_id=category_ids[int(label)],
            bbox=[float(x1), float(y1), width, height], area=width * height, iscrowd=0,
            score=float(score)))
    return annotations


def default_image_dir(cfg) -> str:
    dataset = cfg.test_dataloader.dataset
    while 'dataset' in dataset and 'data_root' not in dataset:
        dataset = dataset.dataset
    return osp.join(dataset.get('data_root', ''), dataset.get('data_prefix', {}).get('img', ''))


def main(argv=None):
    args = parse_args(argv)
    from mmdet.apis import inference_detector, init_detector
    from mmengine.config import Config

    import mmproseco  # noqa: F401  (registers the package's modules)

    for path in (args.config, args.checkpoint, args.ann):
        if not osp.isfile(path):
            raise FileNotFoundError(f'{path!r} does not exist')
    if not 0 <= args.score_thr <= 1:
        raise ValueError(f'--score-thr must be in [0, 1], got {args.score_thr}')
    with open(args.ann) as f:
        coco = json.load(f)
    cfg = Config.fromfile(args.config)
    img_dir = args.img_dir or default_image_dir(cfg)
    model = init_detector(cfg, args.checkpoint, device=args.device)
    detector_classes = list(model.dataset_meta['classes'])
    name_to_id = {c['name']: c['id'] for c in coco['categories']}
    missing = [name for name in detector_classes if name not in name_to_id]
    if missing:
        raise ValueError(f'detector classes {missing} are not categories of {args.ann}; '
                         'use a detector trained on the same classes')
    category_ids = [name_to_id[name] for name in detector_classes]
    annotations = []
    images = coco['images']
    for start in range(0, len(images), args.batch_size):
        batch = images[start:start + args.batch_size]
        paths = [osp.join(img_dir, image['file_name']) for image in batch]
        for path in paths:
            if not osp.isfile(path):
                raise FileNotFoundError(f'image {path!r} not found; pass --img-dir')
        for image, result in zip(batch, inference_detector(model, paths)):
            pred = result.pred_instances
            keep = pred.scores >= args.score_thr
            annotations += detections_to_annotations(
                image['id'], pred.bboxes[keep].cpu().numpy(), pred.scores[keep].cpu().numpy(),
                pred.labels[keep].cpu().numpy(), category_ids, len(annotations) + 1)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(dict(images=images, categories=coco['categories'], annotations=annotations), f)
    print(json.dumps(dict(images=len(images), detections=len(annotations),
                          score_thr=args.score_thr, out=args.out)))


if __name__ == '__main__':
    from mmproseco.tools.cli import run_cli
    run_cli(main)
