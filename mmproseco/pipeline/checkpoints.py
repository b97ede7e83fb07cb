"""Checkpoints that the stages keep: the weights, without what would differ between runs.

mmengine's checkpoint ``meta`` holds the wall-clock time, a timestamped experiment name,
the config text and the hook messages (checkpoint paths); its ``message_hub``, optimizer
and schedulers are only for resuming. A stage keeps the ``state_dict`` and the dataset
meta, so two runs with the same inputs write the same bytes (``torch.save`` names the
archive after the file, so the file is written under its final name).

Exporting a pretraining for fine-tuning keeps the submodule named by the config's
``pretrain_export.source`` (``student`` for ProSeCo, the whole model for DETReg) and drops
what a supervised Deformable DETR does not have or must learn anew: the 1-class head
``bbox_head.cls_branches`` and the pretraining MLPs. Fine-tune with ``load_from=<out>``;
mmengine then logs the keys it could not match::

    python tools/export_pretrained.py work_dirs/proseco/iter_600.pth \\
        work_dirs/proseco/detector.pth [--source student]
"""
import argparse
import os
import os.path as osp
import re

import torch

from mmproseco.tools.cli import check_checkpoint, run_cli

DEFAULT_DROP = (r'^bbox_head\.cls_branches\.', r'^bbox_head\.projector\.',
                r'^bbox_head\.predictor\.', r'^bbox_head\.feature_embed\.')
#: The parts of mmengine's ``meta`` that depend only on the run's inputs.
KEPT_META = ('dataset_meta', 'epoch', 'iter')


def export_state_dict(state_dict: dict, source: str = '', drop=DEFAULT_DROP):
    """Keys under ``source.`` (prefix removed) minus those matching ``drop``.

    Returns:
        tuple: (kept state dict, list of dropped keys).
    """
    prefix = f'{source}.' if source else ''
    selected = {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}
    if not selected:
        raise ValueError(f'no key starts with {prefix!r}; is the source (--source, '
                         f'pretrain_export.source) right? keys look like '
                         f'{next(iter(state_dict))!r}')
    patterns = [re.compile(p) for p in drop]
    kept = {k: v for k, v in selected.items() if not any(p.search(k) for p in patterns)}
    return kept, sorted(set(selected) - set(kept))


def load_run_checkpoint(path):
    """A full mmengine checkpoint of this package's configs, checked first: their
    ``WeightsOnlyCheckpointHook`` makes it load with torch's safe loader."""
    check_checkpoint(path)
    return torch.load(path, map_location='cpu', weights_only=True)


def save_weights(path, state_dict, meta=None):
    """Write ``state_dict`` and the input-determined part of ``meta`` to ``path``."""
    meta = {k: v for k, v in (meta or {}).items() if k in KEPT_META}
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    torch.save(dict(state_dict=state_dict, meta=meta), path)


def keep_checkpoint(src, out):
    """Save the weights of the mmengine checkpoint ``src`` to ``out``, then delete ``src``."""
    checkpoint = load_run_checkpoint(src)
    save_weights(out, checkpoint['state_dict'], checkpoint.get('meta'))
    os.remove(src)


def export_detector(src, out, source='student', drop=DEFAULT_DROP):
    """Export the ``source`` submodule of the checkpoint ``src`` to ``out`` (see above).

    Returns:
        tuple: (kept state dict, list of dropped keys).
    """
    checkpoint = load_run_checkpoint(src)
    kept, dropped = export_state_dict(checkpoint.get('state_dict', checkpoint), source, drop)
    save_weights(out, kept)
    return kept, dropped


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('checkpoint')
    parser.add_argument('out')
    parser.add_argument('--source', default='student',
                        help="submodule to export ('' for the whole model)")
    args = parser.parse_args(argv)
    kept, dropped = export_detector(args.checkpoint, args.out, args.source)
    print(f'kept {len(kept)} tensors; dropped {len(dropped)} '
          f'({", ".join(sorted({k.rsplit(".", 2)[0] for k in dropped})) or "none"})')


if __name__ == '__main__':
    run_cli(main)
