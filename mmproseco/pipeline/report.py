"""Write results/report.md and its figures from the files the stages of one `dvc repro` wrote.

    python -m mmproseco.pipeline report --metrics results/metrics --out results ...

Every number in the report is read from a JSON file under --metrics, --timings or --curves,
each a dependency of the ``report`` stage; the figures are PNG (DVC's HTML plots need a CDN).
"""
import argparse
import glob
import json
import os
import os.path as osp
from collections import defaultdict

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import yaml  # noqa: E402

from .scalars import read_curves  # noqa: E402

METHOD_ORDER = ('scratch', 'detreg', 'sce', 'proseco')
METHOD_NAMES = dict(scratch='Random init (supervised only)', detreg='DETReg-style',
                    sce='SCE (LocSCE with delta = 1)', proseco='ProSeCo (LocSCE)')


def load_runs(metrics_dir):
    runs = []
    for path in sorted(glob.glob(osp.join(metrics_dir, 'finetune', '*.json'))):
        with open(path) as f:
            runs.append(json.load(f))
    if not runs:
        raise FileNotFoundError(f'no fine-tuning metrics under {metrics_dir}/finetune; '
                                'run the finetune and evaluate stages first (dvc repro)')
    return runs


def summarize(runs, key):
    """{method: {fraction: (mean, std, n)}} of ``key`` over seeds (std with ddof=1)."""
    values = defaultdict(lambda: defaultdict(list))
    for run in runs:
        values[run['method']][run['fraction']].append(100 * run[key])
    return {m: {f: (float(np.mean(v)), float(np.std(v, ddof=1)) if len(v) > 1 else 0.0,
                    len(v)) for f, v in by_fraction.items()}
            for m, by_fraction in values.items()}


def ordered_methods(summary):
    return [m for m in METHOD_ORDER if m in summary] + sorted(set(summary) - set(METHOD_ORDER))


def table(summary_map, summary_ap50, fractions):
    head = '| pretraining | ' + ' | '.join(f'{f:g} %' for f in fractions) + ' |'
    lines = [head, '|---' * (len(fractions) + 1) + '|']
    for method in ordered_methods(summary_map):
        cells = []
        for f in fractions:
            if f not in summary_map[method]:
                cells.append('–')
                continue
            mean, std, n = summary_map[method][f]
            ap50 = summary_ap50[method][f][0]
            cells.append(f'{mean:.1f} ± {std:.1f} (AP50 {ap50:.1f}, n={n})')
        lines.append(f'| {METHOD_NAMES.get(method, method)} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def verdicts(summary, fractions):
    """One sentence per fraction: ProSeCo against each other method, in seed spreads."""
    if 'proseco' not in summary:
        return ['ProSeCo was not run.']
    sentences = []
    for f in fractions:
        if f not in summary['proseco']:
            continue
        mean, std, n = summary['proseco'][f]
        parts = []
        for other in ordered_methods(summary):
            if other == 'proseco' or f not in summary[other]:
                continue
            o_mean, o_std, o_n = summary[other][f]
            diff = mean - o_mean
            spread = max(std, o_std)
            if min(n, o_n) < 2:
                strength = 'a single seed, so no spread to compare with'
            elif spread == 0:
                strength = 'identical across seeds'
            elif abs(diff) > 2 * spread:
                strength = f'{abs(diff) / spread:.1f}x the larger seed std, a clear gap'
            else:
                strength = f'within {2:g}x the seed std ({spread:.1f}), not a clear gap'
            name = METHOD_NAMES.get(other, other)
            if round(diff, 1) == 0:
                verdict = f'ties with {name}'
            else:
                verdict = f"{'beats' if diff > 0 else 'trails'} {name} by {abs(diff):.1f} mAP"
            parts.append(f'{verdict} ({strength})')
        sentences.append(f'- At {f:g} % labels, ProSeCo ' + '; '.join(parts) + '.')
    if all(summary[m][f][2] < 2 for m in summary for f in summary[m]):
        sentences.append('- With one seed per cell these differences cannot be told from '
                         'seed noise; add seeds (`split.seeds` in params.yaml) for the spread.')
    return sentences


def plot_fractions(summary, fractions, path):
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for method in ordered_methods(summary):
        fs = [f for f in fractions if f in summary[method]]
        means = [summary[method][f][0] for f in fs]
        stds = [summary[method][f][1] for f in fs]
        ax.errorbar(fs, means, yerr=stds, marker='o', capsize=3,
                    label=METHOD_NAMES.get(method, method))
    ax.set_xscale('log')
    ax.set_xticks(fractions, [f'{f:g}%' for f in fractions])
    ax.set_xlabel('labeled fraction of train')
    ax.set_ylabel('test bbox mAP (%)')
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run_name(method, fraction, seed):
    """The name dvc.yaml gives a fine-tuning stage's files."""
    return f'{method}_{fraction:g}pct_seed{seed}'


def plot_curves(curves_dir, fraction, seed, path):
    """Pretraining losses and fine-tuning losses / val mAP, one panel each; the fine-tuning
    runs of ``fraction`` and ``seed``."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.5))
    for method in METHOD_ORDER:
        pretrain = osp.join(curves_dir, 'pretrain', f'{method}.json')
        if osp.isfile(pretrain):
            train = [p for p in read_curves(pretrain) if 'loss' in p]
            axes[0].plot([p['iter'] for p in train], [p['loss'] for p in train],
                         label=METHOD_NAMES[method])
        run = run_name(method, fraction, seed)
        finetune = osp.join(curves_dir, 'finetune', f'{run}.json')
        if osp.isfile(finetune):
            points = read_curves(finetune)
            train = [p for p in points if 'loss' in p]
            val = [p for p in points if 'coco/bbox_mAP' in p]
            label = f'{METHOD_NAMES[method]} ({run})'
            axes[1].plot([p['iter'] for p in train], [p['loss'] for p in train], label=label)
            axes[2].plot([p['iter'] for p in val], [100 * p['coco/bbox_mAP'] for p in val],
                         marker='o', label=label)
    titles = ('pretraining loss', 'fine-tuning loss', 'val bbox mAP (%)')
    for ax, title in zip(axes, titles):
        ax.set_title(title)
        ax.set_xlabel('iteration')
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def baseline_table(metrics_dir):
    rows = []
    for path in sorted(glob.glob(osp.join(metrics_dir, 'baselines', '*.json'))):
        with open(path) as f:
            m = json.load(f)
        rows.append(f"| {osp.basename(path)[:-5]} | `{m['config']}` | "
                    f"{100 * m['coco/bbox_mAP']:.1f} | {100 * m['coco/bbox_mAP_50']:.1f} |")
    if not rows:
        return []
    return ['## Supervised baselines on DeepForest (test tiles)', '',
            '| detector | config | bbox mAP | AP50 |', '|---|---|---|---|', *rows, '']


def read_params(path):
    """params.yaml as a dict; {} if there is none (the report then keeps every run)."""
    if not osp.isfile(path):
        return {}
    with open(path) as f:
        return yaml.safe_load(f)


def backbone_sentence(params):
    """How the methods' backbone started (params.yaml ``backbone``), in words. Any change
    there reruns the pretrainings, hence this report."""
    if 'backbone' not in params:
        return []
    backbone = params['backbone']
    if not backbone.get('use'):
        return ['Every method starts from a random backbone, trained jointly during '
                'pretraining.', '']
    frozen = 'frozen during pretraining, ' if backbone.get('frozen') else ''
    return [f"Every method, random init included, starts from the same backbone: image-level "
            f"SCE on the unlabeled pool (`{backbone['config']}`, the `backbone` stage), "
            f'{frozen}trained by fine-tuning. "Random init" is a random transformer on it.', '']


def pretrain_rows(metrics_dir, timings_dir):
    """One table row per pretraining: its iterations, seconds and last logged losses."""
    rows = []
    for path in sorted(glob.glob(osp.join(metrics_dir, 'pretrain', '*.json'))):
        name = osp.basename(path)
        with open(path) as f:
            run = json.load(f)
        timing = osp.join(timings_dir, 'pretrain', name)
        seconds = '–'
        if osp.isfile(timing):
            with open(timing) as f:
                seconds = json.load(f).get('train_seconds', '–')
        losses = ', '.join(f'{k} {v:.3f}' for k, v in sorted(run['last_losses'].items()))
        rows.append(f"| {name[:-5]} | {run['iters']} | {seconds} | {losses} |")
    return rows


def included(title, path, note=''):
    """A section made of a markdown table another stage wrote, if it exists."""
    if not osp.isfile(path):
        return []
    with open(path) as f:
        return [f'## {title}', '', *([note, ''] if note else []), f.read().strip(), '']


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--metrics', required=True, help='finetune/, pretrain/, baselines/')
    parser.add_argument('--timings', required=True, help='pretrain/')
    parser.add_argument('--curves', required=True, help='pretrain/, finetune/')
    parser.add_argument('--ranked', required=True, help="the ranked_report stage's table")
    parser.add_argument('--i2i', required=True, help="the i2i_eval stage's table")
    parser.add_argument('--out', required=True)
    parser.add_argument('--params', default='params.yaml')
    args = parser.parse_args(argv)
    params = read_params(args.params)
    runs = load_runs(args.metrics)
    if 'split' in params:  # metrics files of seeds or fractions since dropped stay behind
        split = params['split']
        runs = [r for r in runs
                if r['seed'] in split['seeds'] and r['fraction'] in split['fractions']]
    fractions = sorted({r['fraction'] for r in runs})
    summary = summarize(runs, 'coco/bbox_mAP')
    summary_ap50 = summarize(runs, 'coco/bbox_mAP_50')
    os.makedirs(args.out, exist_ok=True)
    plot_fractions(summary, fractions, osp.join(args.out, 'map_vs_fraction.png'))
    # the curves of the largest fraction, first seed
    plot_curves(args.curves, fractions[-1], min(r['seed'] for r in runs),
                osp.join(args.out, 'training_curves.png'))
    lines = [
        '# Results', '',
        'Written by `mmproseco/pipeline/report.py` from the metrics files of one `dvc repro` '
        f'({len(runs)} fine-tuning runs). Test bbox mAP (%) as mean ± std over seeds; the '
        'checkpoint of each run is chosen on val only.', '', *backbone_sentence(params),
        '## Fine-tuning with few labels', '', table(summary, summary_ap50, fractions), '',
        '![mAP against labeled fraction](map_vs_fraction.png)', '',
        '## ProSeCo against the others', '', *verdicts(summary, fractions), '',
        '## Pretraining runs', '',
        '| method | iterations | seconds | last losses |', '|---|---|---|---|',
        *pretrain_rows(args.metrics, args.timings), '',
        '![training curves](training_curves.png)', '',
        *baseline_table(args.metrics),
        *included('Ranked contrastive object embeddings (shapes, ground-truth crops)',
                  args.ranked,
                  'Written by `mmproseco/pipeline/ranked_report.py` from '
                  '`results/metrics/ranked/`; ROC curves and t-SNE maps in '
                  '`results/ranked/<method>_seed<s>/`.'),
        *included('I2I adapter: foggy DeepForest to clear (AP50 per class, mAP)',
                  args.i2i,
                  'Written by `mmproseco/pipeline/i2i_report.py` from the prediction dumps of '
                  'the `i2i_eval` stage; `gap_closed` = (row - Source) / (Target oracle - '
                  'Source). Translation grids and loss curves in `results/i2i/`.'),
    ]
    with open(osp.join(args.out, 'report.md'), 'w') as f:
        f.write('\n'.join(lines))
    print('\n'.join(lines))


if __name__ == '__main__':
    main()
