"""Figures of an AdaptedDetector run: translation grid PNG and loss curves PNG.

    python tools/i2i_figures.py CONFIG CHECKPOINT --work-dir WORK --out-dir DIR [--num-images 3]

CONFIG/CHECKPOINT are those given to ``mmproseco.tools.test``; WORK is the training work dir
(its latest ``*/vis_data/scalars.json`` gives the loss curves).
"""
import argparse
from pathlib import Path

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint

import mmproseco  # noqa: F401
from mmdet.registry import DATASETS, MODELS
from mmproseco.visualization import plot_loss_curves, plot_translation_grid


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--work-dir', help='training work dir (for loss curves)')
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--num-images', type=int, default=3)
    return parser.parse_args(argv)


def to_rgb(pixels: torch.Tensor) -> np.ndarray:
    """(3, H, W) BGR float pixels → (H, W, 3) RGB uint8."""
    return pixels.flip(0).permute(1, 2, 0).round().clamp(0, 255).byte().numpy()


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    model = MODELS.build(cfg.model)
    load_checkpoint(model, args.checkpoint, map_location='cpu')
    model.eval()
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    rows = []
    for index in range(min(args.num_images, len(dataset))):
        data = model.data_preprocessor(
            dict(inputs=[dataset[index]['inputs']], data_samples=[dataset[index]['data_samples']]))
        pixels, samples = data['inputs'], data['data_samples']
        with torch.no_grad():
            model.translate = False
            before = model.predict(pixels, samples, rescale=False)[0].pred_instances
            model.translate = True
            after = model.predict(pixels, samples, rescale=False)[0].pred_instances
            translated = model.adapt_pixels(pixels)
            adapter_pre = model.adapter.data_preprocessor
            order = [2, 1, 0] if adapter_pre._channel_conversion else [0, 1, 2]
            normalized = (pixels[:, order] - adapter_pre.mean) / adapter_pre.std
            outputs = model.adapter.generator(normalized)
        attention = outputs.get('attention')
        rows.append(dict(
            input=to_rgb(pixels[0]),
            translation=to_rgb(translated[0]),
            attention=None if attention is None else attention[0].numpy(),
            before=dict(bboxes=before.bboxes.numpy(), scores=before.scores.numpy()),
            after=dict(bboxes=after.bboxes.numpy(), scores=after.scores.numpy()),
            gt=samples[0].gt_instances.bboxes.numpy()))
    out_dir = Path(args.out_dir)
    plot_translation_grid(rows, str(out_dir / 'translation_grid.png'))
    if args.work_dir:
        scalars = sorted(Path(args.work_dir).glob('*/vis_data/scalars.json'))
        if not scalars:
            raise FileNotFoundError(f'no */vis_data/scalars.json under {args.work_dir}')
        try:
            plot_loss_curves(str(scalars[-1]), str(out_dir / 'loss_curves.png'))
        except ValueError as err:  # a run shorter than the logger interval logs no loss
            print(f'loss curves skipped: {err}')
    print(f'figures written to {out_dir}')


if __name__ == '__main__':
    main()
