"""Turn a pretraining checkpoint into weights a supervised detector config can load.

    python tools/export_pretrained.py work/pretrain/proseco/iter_600.pth \
        work/pretrain/proseco/detector.pth [--source student]

It keeps the ``--source`` submodule (``student`` for ProSeCo; the whole model for DETReg),
drops what a supervised Deformable DETR does not have or must learn anew (the 1-class
head ``bbox_head.cls_branches`` and the pretraining MLPs), and prints what it kept and
dropped. Fine-tune with ``load_from=<out>``; mmengine then logs the keys it could not
match.
"""
import argparse
import os.path as osp
import re
import sys

import torch

if __package__ in (None, ''):
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmproseco.tools.cli import check_checkpoint, run_cli  # noqa: E402

DEFAULT_DROP = (r'^bbox_head\.cls_branches\.', r'^bbox_head\.projector\.',
                r'^bbox_head\.predictor\.', r'^bbox_head\.feature_embed\.')


def export_state_dict(state_dict: dict, source: str = '', drop=DEFAULT_DROP):
    """Keys under ``source.`` (prefix removed) minus those matching ``drop``.

    Returns:
        tuple: (kept state dict, list of dropped keys).
    """
    prefix = f'{source}.' if source else ''
    selected = {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}
    if not selected:
        raise ValueError(f'no key starts with {prefix!r}; is --source right? '
                         f'keys look like {next(iter(state_dict))!r}')
    patterns = [re.compile(p) for p in drop]
    kept = {k: v for k, v in selected.items() if not any(p.search(k) for p in patterns)}
    return kept, sorted(set(selected) - set(kept))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('checkpoint')
    parser.add_argument('out')
    parser.add_argument('--source', default='student',
                        help="submodule to export ('' for the whole model)")
    args = parser.parse_args(argv)
    check_checkpoint(args.checkpoint)
    ckpt = torch.load(args.checkpoint, map_location='cpu', weights_only=False)
    kept, dropped = export_state_dict(ckpt.get('state_dict', ckpt), args.source)
    torch.save(dict(state_dict=kept, meta=dict(exported_from=args.checkpoint)), args.out)
    print(f'kept {len(kept)} tensors; dropped {len(dropped)} '
          f'({", ".join(sorted({k.rsplit(".", 2)[0] for k in dropped})) or "none"})')


if __name__ == '__main__':
    run_cli(main)
