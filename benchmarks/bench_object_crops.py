"""Object crops: batched RoIAlign vs a per-box loop, and one training step at CPU size.

Run: ``PYTHONPATH=. python benchmarks/bench_object_crops.py [--repeats 20] [--steps 5]``.
Prints a JSON record and a short table. Crop rates of the two ways come from the same run
on the same images and boxes (32 images of 128x128 px, 3 boxes each; compare their ratio);
the training step uses the CPU-size ranked-contrastive config on a synthetic batch shaped like
the shapes set (its batch size of 128x128 images, 3 boxes each), data loading excluded.
"""
import argparse
import json
import resource

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from benchmarks.timing import median_seconds

CPU_CONFIG = 'configs/ranked_contrastive/ranked-contrastive_r18_1xb16-cpu_shapes.py'


def make_batch(num_images=32, boxes_per_image=3, size=128, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 255, (num_images, 3, size, size), dtype=np.uint8)
    boxes = []
    for _ in range(num_images):
        side = rng.uniform(12, 64, (boxes_per_image, 2))
        corner = rng.uniform(0, size - side)
        boxes.append(np.concatenate([corner, corner + side], axis=1).astype(np.float32))
    return images, boxes


def bench_crops(images, boxes, crop_size, repeats):
    from mmproseco.models.embedders.crop_augment import crop_boxes
    batch = torch.from_numpy(images).float()
    rois = torch.cat([torch.cat([torch.full((len(b), 1), float(i)), torch.from_numpy(b)], 1)
                      for i, b in enumerate(boxes)])
    hwc = [np.ascontiguousarray(img.transpose(1, 2, 0)).astype(np.float32) for img in images]

    def batched():
        return crop_boxes(batch, rois, crop_size)

    def loop_interpolate():
        crops = []
        for img, img_boxes in zip(batch, boxes):
            for x1, y1, x2, y2 in img_boxes.round().astype(int):
                crops.append(F.interpolate(img[None, :, y1:y2, x1:x2], (crop_size, crop_size),
                                           mode='bilinear', antialias=True))
        return torch.cat(crops)

    def loop_cv2():
        crops = []
        for img, img_boxes in zip(hwc, boxes):
            for x1, y1, x2, y2 in img_boxes.round().astype(int):
                crops.append(cv2.resize(img[y1:y2, x1:x2], (crop_size, crop_size),
                                        interpolation=cv2.INTER_AREA))
        return torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2)

    count = len(rois)
    return {name: count / median_seconds(fn, repeats)
            for name, fn in (('batched_roi_align', batched),
                             ('loop_torch_interpolate', loop_interpolate),
                             ('loop_cv2_resize', loop_cv2))}


def bench_train_step(steps, config=CPU_CONFIG):
    from mmdet.registry import MODELS
    from mmdet.structures import DetDataSample
    from mmdet.structures.bbox import HorizontalBoxes
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope
    from mmengine.structures import InstanceData

    import mmproseco  # noqa: F401
    init_default_scope('mmdet')
    cfg = Config.fromfile(config)
    images, boxes = make_batch(num_images=cfg.train_dataloader.batch_size)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    samples = []
    for i, img_boxes in enumerate(boxes):
        sample = DetDataSample()
        sample.gt_instances = InstanceData(bboxes=HorizontalBoxes(torch.from_numpy(img_boxes)),
                                           labels=torch.arange(len(img_boxes)) + i % 5)
        samples.append(sample)
    data = dict(inputs=[torch.from_numpy(img) for img in images], data_samples=samples)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    seconds = median_seconds(lambda: model.train_step(data, wrapper), steps)
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return dict(config=config, crops_per_step=sum(len(b) for b in boxes),
                seconds_per_step=seconds,
                peak_rss_mib=rss_after / 1024,
                rss_growth_in_steps_mib=(rss_after - rss_before) / 1024)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeats', type=int, default=20, help='timed repeats of the crops')
    parser.add_argument('--steps', type=int, default=5, help='timed training steps')
    args = parser.parse_args(argv)
    images, boxes = make_batch()
    record = dict(machine=f'{torch.get_num_threads()} torch threads, CPU',
                  images=len(images), boxes=sum(len(b) for b in boxes))
    for crop_size in (32, 64):
        rates = bench_crops(images, boxes, crop_size, args.repeats)
        record[f'crops_per_s_{crop_size}px'] = rates
        record[f'speedup_vs_torch_loop_{crop_size}px'] = (
            rates['batched_roi_align'] / rates['loop_torch_interpolate'])
        record[f'speedup_vs_cv2_loop_{crop_size}px'] = (
            rates['batched_roi_align'] / rates['loop_cv2_resize'])
    record['train_step'] = bench_train_step(args.steps)
    print(json.dumps(record, indent=2))
    print('\n| crop size | batched RoIAlign crops/s | torch loop crops/s | cv2 loop crops/s |')
    print('|---|---|---|---|')
    for crop_size in (32, 64):
        r = record[f'crops_per_s_{crop_size}px']
        print(f'| {crop_size} | {r["batched_roi_align"]:.0f} | '
              f'{r["loop_torch_interpolate"]:.0f} | {r["loop_cv2_resize"]:.0f} |')
    step = record['train_step']
    print(f'\ntraining step ({step["crops_per_step"]} crops x 2 views): '
          f'{step["seconds_per_step"]:.2f} s, peak RSS {step["peak_rss_mib"]:.0f} MiB')


if __name__ == '__main__':
    main()
