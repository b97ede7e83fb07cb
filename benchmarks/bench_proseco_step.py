"""One ProSeCo training step against one supervised Deformable DETR step, same model size,
batch and machine, measured in the same run, with the ProSeCo step broken down.

    PYTHONPATH=. python benchmarks/bench_proseco_step.py [--batch 8] [--size 128] [--queries N]
        [--model cpu|paper]

``--model paper`` times the paper-size detector (R50, 300 queries, 6+6 layers, 256-d) of
the COCO configs instead of the CPU-size one (half-width R18, 50 queries, 2+2 layers).

Prints JSON. The breakdown re-runs the pieces of ``ProSeCo.loss`` with timers around them;
their sum matches the timed whole step within noise.
"""
import argparse
import json
import statistics
import time

import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

import mmproseco  # noqa: F401
from benchmarks.timing import median_seconds  # noqa: E402
from mmproseco.models.heads.locsce_head import boxes_to_pixels

CONFIGS = {  # model size: (ProSeCo config, supervised config of the same detector)
    'cpu': ('configs/proseco/proseco_deformable-detr_r18-tiny_1xb8-cpu_shapes.py',
            'configs/deformable_detr/deformable-detr_r18-tiny_1xb8-cpu_shapes.py'),
    'paper': ('configs/proseco/proseco_deformable-detr_r50_8xb4-50e_coco.py',
              'configs/deformable_detr/deformable-detr_r50_16xb2-50e_shapes.py'),
}


def samples(batch, size, boxes=30, labels=1):
    out = []
    for _ in range(batch):
        s = DetDataSample(metainfo=dict(img_shape=(size, size), batch_input_shape=(size, size),
                                        ori_shape=(size, size), scale_factor=(1., 1.)))
        xy = torch.rand(boxes, 2) * size * 0.7
        wh = torch.rand(boxes, 2) * size * 0.25 + 4
        s.gt_instances = InstanceData(bboxes=torch.cat([xy, (xy + wh).clamp(max=size)], 1),
                                      labels=torch.randint(0, labels, (boxes, )))
        out.append(s)
    return out


class Timer:

    def __init__(self):
        self.parts = {}

    def __call__(self, name, fn):
        start = time.perf_counter()
        out = fn()
        self.parts[name] = self.parts.get(name, 0.) + time.perf_counter() - start
        return out


def proseco_step_parts(model, images, data):
    """The steps of ProSeCo.loss and the backward pass, timed one by one."""
    timer, head = Timer(), model.student.bbox_head

    def teacher():
        with torch.no_grad():
            hidden, refs = model.query_states(model.teacher, images, data)
            _, boxes = model.teacher.bbox_head(hidden, refs)
            return model.teacher.bbox_head.embed(hidden[-1], online=False), boxes[-1]

    t_embeds, t_boxes = timer('teacher forward', teacher)
    hidden, refs = timer('student forward',
                         lambda: model.query_states(model.student, images + 0.1, data))
    metas = [s.metainfo for s in data]
    gts = [s.gt_instances for s in data]

    def localization():
        cls, boxes = head(hidden, refs)
        return boxes, head.loss_by_feat(cls, boxes, None, None, gts, metas)

    all_boxes, losses = timer('localization (SS boxes, Hungarian + L1/GIoU)', localization)
    shapes = [m['img_shape'] for m in metas]

    def matching():
        s_embeds = head.embed(hidden[-1], online=True)
        s_pix = boxes_to_pixels(all_boxes[-1].detach(), shapes)
        t_pix = boxes_to_pixels(t_boxes, shapes)
        matched = head.proposal_assigner.match(s_embeds.detach(), s_pix, t_embeds, t_pix, shapes)
        return s_embeds, t_pix, matched

    s_embeds, t_pix, matched = timer('proposal matching', matching)
    batch, num = t_embeds.shape[:2]
    ids = torch.arange(batch).repeat_interleave(num)
    flat = (matched + torch.arange(batch)[:, None] * num).flatten()
    losses['loss_contrast'] = timer(
        'LocSCE', lambda: head.loss_contrast(s_embeds.flatten(0, 1), t_embeds.flatten(0, 1),
                                             t_pix.flatten(0, 1), ids, flat))
    loss = sum(v for k, v in losses.items() if 'loss' in k)
    timer('backward', loss.backward)
    model.zero_grad()
    return timer.parts


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--size', type=int, default=128)
    parser.add_argument('--queries', type=int, default=None,
                        help='override num_queries of both models (the CPU configs use 50)')
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--model', choices=sorted(CONFIGS), default='cpu')
    args = parser.parse_args()
    init_default_scope('mmdet')
    torch.manual_seed(0)
    proseco_cfg, supervised_cfg = (Config.fromfile(path) for path in CONFIGS[args.model])
    if args.queries:
        proseco_cfg.model.detector.num_queries = args.queries
        supervised_cfg.model.num_queries = args.queries
    proseco = MODELS.build(proseco_cfg.model).train()
    supervised = MODELS.build(supervised_cfg.model).train()
    images = torch.randn(args.batch, 3, args.size, args.size)
    ss_boxes = samples(args.batch, args.size)
    gt_boxes = samples(args.batch, args.size, boxes=3, labels=8)

    def proseco_step():
        losses = proseco.loss(dict(teacher=images, student=images + 0.1),
                              dict(teacher=ss_boxes, student=ss_boxes))
        sum(v for k, v in losses.items() if 'loss' in k).backward()
        proseco.zero_grad()

    def supervised_step():
        losses = supervised.loss(images, gt_boxes)
        sum(v for k, v in losses.items() if 'loss' in k).backward()
        supervised.zero_grad()

    t_proseco = median_seconds(proseco_step, args.repeats)
    t_supervised = median_seconds(supervised_step, args.repeats)
    runs = [proseco_step_parts(proseco, images, ss_boxes) for _ in range(args.repeats)]
    parts = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    result = dict(
        model=args.model, batch=args.batch, size=args.size, queries=proseco.student.num_queries,
        threads=torch.get_num_threads(), proseco_step_s=round(t_proseco, 4),
        supervised_step_s=round(t_supervised, 4), ratio=round(t_proseco / t_supervised, 3),
        breakdown_s={k: round(v, 4) for k, v in parts.items()},
        breakdown_share={k: round(v / sum(parts.values()), 3) for k, v in parts.items()})
    print(json.dumps(result, indent=2))


if __name__ == '__main__':
    main()
