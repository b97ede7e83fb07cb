"""Figures of an AdaptedDetector run: translation grid PNG and loss curves PNG.

    python tools/i2i_figures.py CONFIG CHECKPOINT --work-dir WORK --out-dir DIR [--num-images 3]

CONFIG/CHECKPOINT are those given to ``mmproseco.tools.test``; the loss curves come from the
training work dir WORK, or from the curves file that the pipeline's training stage wrote
(``--curves``).
"""
import argparse
from pathlib import Path

import numpy as np
import torch
from mmdet.registry import DATASETS, MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint

import mmproseco  # noqa: F401
from mmproseco.visualization import plot_loss_curves, plot_translation_grid
from .scalars import read_curves, read_scalars, training_curves


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    curves = parser.add_mutually_exclusive_group()
    curves.add_argument('--work-dir', help='training work dir (for loss curves)')
    curves.add_argument('--curves', help='curves file of a pipeline stage (for loss curves)')
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--num-images', type=int, default=3)
    return parser.parse_args(argv)


def to_rgb(pixels: torch.Tensor) -> np.ndarray:
    """(3, H, W) BGR float pixels → (H, W, 3) RGB uint8."""
    return pixels.flip(0).permute(1, 2, 0).round().clamp(0, 255).byte().numpy()


def translation_rows(model, dataset, num_images=3):
    """The grid's rows of the first ``num_images`` images of ``dataset``: each image inside
    its ``img_shape`` (no padding band), its translation, the generator's n + 1 attention maps
    of that image (None for CUT), and the frozen detector's detections before and after."""
    rows = []
    for index in range(min(num_images, len(dataset))):
        item = dataset[index]
        data = model.data_preprocessor(
            dict(inputs=[item['inputs']], data_samples=[item['data_samples']]))
        samples = data['data_samples']
        height, width = samples[0].img_shape
        pixels = data['inputs'][:, :, :height, :width]
        with torch.no_grad():
            model.translate = False
            before = model.predict(pixels, samples, rescale=False)[0].pred_instances
            model.translate = True
            after = model.predict(pixels, samples, rescale=False)[0].pred_instances
            translated = model.adapt_pixels(pixels, samples)[0]
            outputs = model.adapter.generator(model.adapter.data_preprocessor.normalize(pixels))
        attention = outputs.get('attention')
        rows.append(dict(
            input=to_rgb(pixels[0]),
            translation=to_rgb(translated),
            attention=None if attention is None else attention[0].numpy(),
            before=dict(bboxes=before.bboxes.numpy(), scores=before.scores.numpy()),
            after=dict(bboxes=after.bboxes.numpy(), scores=after.scores.numpy()),
            gt=samples[0].gt_instances.bboxes.numpy()))
    return rows


def i2i_figures(config, checkpoint, out_dir, curves=None, num_images=3) -> None:
    """``out_dir/translation_grid.png`` of the first ``num_images`` test images and, given
    the run's ``curves`` (points of :func:`.scalars.training_curves`), ``loss_curves.png``."""
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    model = MODELS.build(cfg.model)
    load_checkpoint(model, checkpoint, map_location='cpu')
    model.eval()
    rows = translation_rows(model, DATASETS.build(cfg.test_dataloader.dataset), num_images)
    out_dir = Path(out_dir)
    plot_translation_grid(rows, str(out_dir / 'translation_grid.png'))
    if curves is not None:
        try:
            plot_loss_curves(curves, str(out_dir / 'loss_curves.png'))
        except ValueError as err:  # a run shorter than the logger interval logs no loss
            print(f'loss curves skipped: {err}')
    print(f'figures written to {out_dir}')


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.work_dir:
        curves = training_curves(read_scalars(args.work_dir))
        if not curves:
            raise FileNotFoundError(f'no logged scalars under {args.work_dir}')
    else:
        curves = read_curves(args.curves) if args.curves else None
    i2i_figures(args.config, args.checkpoint, args.out_dir, curves, args.num_images)


if __name__ == '__main__':
    main()
