"""The fine-tuning step of smaller CPU-size Deformable DETRs, interleaved in one process.

    python benchmarks/bench_model_sizes.py [--rounds 4] [--steps 5] [--variant NAME ...]

The converged ProSeCo study costs its steps (docs/pipeline.md, "What it costs"), and the
issue allows buying steps with a smaller model. Each variant below is the fine-tuning
config with a few ``--cfg-options`` keys changed; every round runs ``--steps`` steps (the
first one not timed) of each variant on its own 6 batches of the full train split, so
that the VM's drift between processes (tens of percent) falls on all variants alike.
A step is forward, backward, clip and fused AdamW at a learning rate of 1e-7. Prints each
variant's median step, its speed-up over the first one (by default the config as it
is) and its parameter count. A faster step is only a saving if the model learns as much
per second: ``tools/calibrate_schedules.py --cfg-options`` with a variant's keys checks that.
"""
import argparse
import statistics
import time
from collections import defaultdict

import torch

from benchmarks.finetune_step import model_and_batches, train_step

RESIZE = 'train_dataloader.dataset.pipeline.2.scale'  # the Resize of the shapes pipeline
TWO_LEVELS = {  # strides 16 and 32 only: the stride-8 level is 256 of the 336 tokens at 128 px
    'model.num_feature_levels': 2, 'model.backbone.out_indices': (2, 3),
    'model.neck.in_channels': [128, 256], 'model.neck.num_outs': 2,
    'model.encoder.layer_cfg.self_attn_cfg.num_levels': 2,
    'model.decoder.layer_cfg.cross_attn_cfg.num_levels': 2}
FFN_256 = {'model.encoder.layer_cfg.ffn_cfg.feedforward_channels': 256,
           'model.decoder.layer_cfg.ffn_cfg.feedforward_channels': 256}
VARIANTS = {
    'as-is': {},
    'img96': {RESIZE: (96, 96)},
    'levels2': TWO_LEVELS,
    'ffn256': FFN_256,
    'queries30': {'model.num_queries': 30},
    'encoder1': {'model.encoder.num_layers': 1},
    'levels2+ffn256': {**TWO_LEVELS, **FFN_256},
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--rounds', type=int, default=4)
    parser.add_argument('--steps', type=int, default=5)
    parser.add_argument('--variant', nargs='+', choices=list(VARIANTS), default=list(VARIANTS))
    args = parser.parse_args()
    runs = {}
    for name in args.variant:
        model, batches, params = model_and_batches(cfg_options=VARIANTS[name])
        optimizer = torch.optim.AdamW(params, lr=1e-7, weight_decay=1e-4, fused=True)
        runs[name] = (model, batches, params, optimizer)
    times = defaultdict(list)
    for round_ in range(args.rounds):
        for name, (model, batches, params, optimizer) in runs.items():
            print(f'round {round_ + 1}: {name}', flush=True)
            for i in range(args.steps):
                start = time.perf_counter()
                train_step(model, batches[i % len(batches)], params, optimizer,
                           dict(max_norm=0.1, foreach=True))
                if i:
                    times[name].append(time.perf_counter() - start)
    base = statistics.median(times[args.variant[0]])
    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads, '
          f'{args.rounds} rounds x {args.steps - 1} timed steps per variant; '
          f'speed-up over {args.variant[0]}')
    print('| variant | options | parameters | median step s | speed-up |')
    print('|---|---|---|---|---|')
    for name, (model, *_rest) in runs.items():
        median = statistics.median(times[name])
        options = ', '.join(f'`{k}={v}`' for k, v in VARIANTS[name].items()) or '–'
        count = sum(p.numel() for p in model.parameters())
        print(f'| {name} | {options} | {count:,} | {median:.3f} | {base / median:.3f} |')


if __name__ == '__main__':
    main()
