"""torch.compile on the CPU-size fine-tuning step: compile time against the step it saves.

    python benchmarks/bench_compile.py [--steps 8]

Builds the CPU-size shapes fine-tuning config's model and a fused AdamW, times eager steps
(median), then compiles the model's backbone, neck, encoder and decoder with
``torch.compile`` (inductor; the heads' per-image matching stays eager, as it calls scipy),
and times the compilation (two steps) and the compiled steps. The step is forward,
backward, foreach clip and optimizer step on 6 fixed batches of the train split.
"""
import argparse
import statistics
import time

import torch

from benchmarks.finetune_step import model_and_batches, train_step

COMPILED = ('backbone', 'neck', 'encoder', 'decoder')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--steps', type=int, default=8)
    args = parser.parse_args()
    model, batches, params = model_and_batches()
    optimizer = torch.optim.AdamW(params, lr=1e-7, weight_decay=1e-4, fused=True)
    clip = dict(max_norm=0.1, foreach=True)

    def step(batch):
        train_step(model, batch, params, optimizer, clip)

    def median_step():
        times = []
        for i in range(args.steps):
            start = time.perf_counter()
            step(batches[i % len(batches)])
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    eager = median_step()
    start = time.perf_counter()
    for name in COMPILED:
        setattr(model, name, torch.compile(getattr(model, name)))
    step(batches[0])
    step(batches[1])
    compile_s = time.perf_counter() - start
    compiled = median_step()
    print(f'eager step {eager:.3f} s; compilation + 2 steps {compile_s:.1f} s; '
          f'compiled step {compiled:.3f} s; break-even after '
          f'{compile_s / (eager - compiled):.0f} steps' if compiled < eager else
          f'eager step {eager:.3f} s; compilation + 2 steps {compile_s:.1f} s; '
          f'compiled step {compiled:.3f} s: no gain to amortize')


if __name__ == '__main__':
    main()
