"""Each CPU speed option of the fine-tuning step alone and together, interleaved in one process.

    python benchmarks/bench_step_options.py [--rounds 4] [--steps 5]

This VM's speed drifts by tens of percent between processes minutes apart, more than the
options change, so this script times them in one process on one model: every round runs
``--steps`` steps (the first one not timed) of each of the 8 combinations of

* dropout 0 (the five dropouts of the transformer set to p = 0, as ``dropout = 0.0`` in
  ``configs/_base_/models/deformable-detr_tiny.py`` builds them) against the paper's 0.1;
* fused AdamW with a foreach gradient clip against the per-parameter ones;
* channels-last weights (what ``MemoryFormatHook`` does) against the default format,

on the same 6 batches of the full train split, and prints each combination's median step
and its speed-up over (0.1, per-parameter, default format), c7fa5d8's settings. A step is
forward, backward, clip (max norm 0.1) and optimizer step at a learning rate of 1e-7, so
that the model barely changes across the rounds.
"""
import argparse
import itertools
import statistics
import time
from collections import defaultdict

import torch

from benchmarks.finetune_step import model_and_batches, train_step
from mmproseco.engine.hooks import MemoryFormatHook


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--rounds', type=int, default=4)
    parser.add_argument('--steps', type=int, default=5)
    args = parser.parse_args()
    model, batches, params = model_and_batches()
    optimizers = {fused: torch.optim.AdamW(params, lr=1e-7, weight_decay=1e-4, fused=fused)
                  for fused in (False, True)}
    dropouts = [m for m in model.modules() if isinstance(m, torch.nn.Dropout)]
    attentions = [m for m in model.modules() if isinstance(m, torch.nn.MultiheadAttention)]

    def configure(no_dropout, fused, channels_last):
        for module in dropouts:
            module.p = 0.0 if no_dropout else 0.1
        for module in attentions:  # its attention-weight dropout is an attribute
            module.dropout = 0.0 if no_dropout else 0.1
        MemoryFormatHook('channels_last' if channels_last else 'contiguous_format').apply(model)
        return optimizers[fused], dict(max_norm=0.1, foreach=True if fused else None)

    times = defaultdict(list)
    combinations = list(itertools.product((False, True), repeat=3))
    for _ in range(args.rounds):
        for combination in combinations:
            optimizer, clip = configure(*combination)
            for i in range(args.steps):
                start = time.perf_counter()
                train_step(model, batches[i % len(batches)], params, optimizer, clip)
                if i:
                    times[combination].append(time.perf_counter() - start)
    base = statistics.median(times[(False, False, False)])
    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads, '
          f'{args.rounds} rounds x {args.steps - 1} timed steps per combination')
    print('| dropout 0 | fused AdamW + foreach clip | channels-last | median step s | speed-up |')
    print('|---|---|---|---|---|')
    for combination in combinations:
        median = statistics.median(times[combination])
        marks = ' | '.join('yes' if on else 'no' for on in combination)
        print(f'| {marks} | {median:.3f} | {base / median:.3f} |')


if __name__ == '__main__':
    main()
