"""PNG figures of the I2I adapter: translation grids with attention maps, and loss curves."""
from collections import defaultdict
from pathlib import Path
from typing import Optional, Sequence

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _draw_boxes(ax, boxes: np.ndarray, color: str) -> None:
    for x1, y1, x2, y2 in boxes:
        ax.add_patch(plt.Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, color=color, lw=1))


def plot_translation_grid(rows: Sequence[dict], out_file: str, score_thr: float = 0.3) -> None:
    """One row per image: input, translation, the n + 1 attention maps, detections before and
    after translation.

    Args:
        rows: dicts with ``input`` and ``translation`` (H, W, 3) RGB uint8, ``attention``
            (n + 1, H, W) in [0, 1] or None (CUT), ``before`` and ``after`` dicts of ``bboxes``
            (K, 4) xyxy and ``scores`` (K,), and ``gt`` (G, 4) boxes.
        out_file: PNG path.
        score_thr: detections below this score are not drawn.
    """
    num_maps = max(0 if r['attention'] is None else len(r['attention']) for r in rows)
    columns = 4 + num_maps
    fig, axes = plt.subplots(len(rows), columns, figsize=(2 * columns, 2 * len(rows)),
                             squeeze=False)
    for r, row in enumerate(rows):
        panels = [('input', row['input']), ('translation', row['translation'])]
        attention = row['attention'] if row['attention'] is not None else []
        for t, amap in enumerate(attention):
            name = 'A bg' if t == len(attention) - 1 else f'A{t + 1}'
            panels.append((name, amap))
        panels += [('detections before', row['input']), ('detections after', row['translation'])]
        for c, ax in enumerate(axes[r]):
            ax.axis('off')
            if c >= len(panels):
                continue
            title, image = panels[c]
            ax.imshow(image, cmap='viridis' if image.ndim == 2 else None, vmin=0,
                      vmax=1 if image.ndim == 2 else None)
            if r == 0:
                ax.set_title(title, fontsize=8)
            if title.startswith('detections'):
                dets = row['before' if 'before' in title else 'after']
                _draw_boxes(ax, row['gt'], 'lime')
                _draw_boxes(ax, dets['bboxes'][dets['scores'] >= score_thr], 'red')
    fig.tight_layout()
    Path(out_file).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_file, dpi=100)
    plt.close(fig)


def plot_loss_curves(curves: Sequence[dict], out_file: str,
                     keys: Optional[Sequence[str]] = None) -> None:
    """Plot every ``loss*`` value (or ``keys``) of a run's curve points (dicts with
    ``iter``, see ``mmproseco.pipeline.scalars.training_curves``) against the iteration."""
    series = defaultdict(list)
    for point in curves:
        for key, value in point.items():
            if (keys is None and key.startswith('loss')) or (keys and key in keys):
                series[key].append((point['iter'], value))
    if not series:
        raise ValueError('the curves hold no loss values; is it a training run\'s?')
    fig, ax = plt.subplots(figsize=(7, 4))
    for key, points in sorted(series.items()):
        steps, values = zip(*points)
        ax.plot(steps, values, label=key, lw=1)
    ax.set_xlabel('iteration')
    ax.set_ylabel('loss')
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    Path(out_file).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_file, dpi=100)
    plt.close(fig)
