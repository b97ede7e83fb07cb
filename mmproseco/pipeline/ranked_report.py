"""Tables of the ranked contrastive runs: crop accuracy and OOD AUROC per method, over seeds.

Each ``--run METHOD PATH [PATH ...]`` gives one method and one metrics source per seed: a JSON
file (a dict of metrics, as mmengine's test writes to ``<work_dir>/<time>/<time>.json``, or a
JSON-lines ``scalars.json``, whose last record with the metrics is used) or a work dir (its
newest test result is used). Example::

    python tools/ranked_report.py \\
        --run SupCon work_dirs/supcon_r18_1xb16-cpu_shapes \\
        --run Ranked work_dirs/ranked-contrastive_r18_1xb16-cpu_shapes \\
        --out results/ranked_report.md --json results/ranked_report.json
"""
import argparse
import glob
import json
import os
import os.path as osp
from typing import Dict, List, Sequence

import numpy as np

from .scalars import read_scalars

#: (column title, metric key) of the two tables, as in the original report's Tables 2 and 3.
ACCURACY_COLUMNS = (('accuracy', 'proto/accuracy'),
                    ('mean class accuracy', 'proto/mean_class_accuracy'))
AUROC_COLUMNS = (('AUROC max-softmax', 'ood/auroc_max_softmax'),
                 ('AUROC Gaussian', 'ood/auroc_gaussian'))
KNOWN_KEYS = {key for _, key in ACCURACY_COLUMNS + AUROC_COLUMNS}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Markdown tables of ranked contrastive runs')
    parser.add_argument('--run', nargs='+', action='append', required=True,
                        metavar=('METHOD', 'PATH'), help='a method name and one metrics '
                        'JSON or work dir per seed; repeat for each method')
    parser.add_argument('--out', help='write the markdown here too')
    parser.add_argument('--json', help='write mean/std/values per method and metric here')
    return parser.parse_args(argv)


def _records(path: str) -> List[dict]:
    """A metrics dict of a JSON file, or the records of a JSON-lines ``scalars.json``."""
    if osp.basename(path) == 'scalars.json':
        return read_scalars(path)
    with open(path) as f:
        content = json.load(f)
    return [content] if isinstance(content, dict) else []


def load_metrics(path: str) -> Dict[str, float]:
    """The last record with accuracy or AUROC keys in a JSON file or a work dir."""
    if osp.isdir(path):
        candidates = [p for p in glob.glob(osp.join(path, '*', '*.json'))
                      if osp.basename(p)[:-5] == osp.basename(osp.dirname(p))]
        candidates += glob.glob(osp.join(path, '*', 'vis_data', 'scalars.json'))
        candidates = [p for p in sorted(candidates, key=osp.getmtime)
                      if any(KNOWN_KEYS & set(r) for r in _records(p))]
        if not candidates:
            raise FileNotFoundError(f'no metrics JSON with {sorted(KNOWN_KEYS)} under {path!r};'
                                    ' run the test tool on that work dir first')
        path = candidates[-1]
    elif not osp.isfile(path):
        raise FileNotFoundError(f'{path!r} is neither a metrics JSON nor a work dir')
    records = [r for r in _records(path) if KNOWN_KEYS & set(r)]
    if not records:
        raise ValueError(f'{path!r} holds none of the metrics {sorted(KNOWN_KEYS)}')
    return {k: float(v) for k, v in records[-1].items() if k in KNOWN_KEYS}


def summarize(runs: Dict[str, List[Dict[str, float]]]) -> Dict[str, Dict[str, dict]]:
    """Per method and metric: ``mean``, ``std`` (ddof 1, None for one seed) and ``values``."""
    summary = {}
    for method, seeds in runs.items():
        summary[method] = {}
        for key in sorted(KNOWN_KEYS):
            values = [s[key] for s in seeds if key in s]
            if values:
                summary[method][key] = dict(
                    mean=float(np.mean(values)),
                    std=float(np.std(values, ddof=1)) if len(values) > 1 else None,
                    values=values)
    return summary


def _cell(stat) -> str:
    if stat is None:
        return '–'
    if stat['std'] is None:
        return f'{stat["mean"]:.4f}'
    return f'{stat["mean"]:.4f} ± {stat["std"]:.4f}'


def markdown_tables(summary: Dict[str, Dict[str, dict]]) -> str:
    """Table 2 (crop accuracy) and Table 3 (OOD AUROC) as markdown."""
    lines = []
    for title, columns in (('Crop classification accuracy (nearest prototype)',
                            ACCURACY_COLUMNS),
                           ('OOD detection AUROC (withheld classes)', AUROC_COLUMNS)):
        seeds = {m: max((len(s['values']) for s in stats.values()), default=0)
                 for m, stats in summary.items()}
        lines += [f'**{title}**', '',
                  '| method | seeds | ' + ' | '.join(name for name, _ in columns) + ' |',
                  '|---|---|' + '---|' * len(columns)]
        for method, stats in summary.items():
            cells = [_cell(stats.get(key)) for _, key in columns]
            lines.append(f'| {method} | {seeds[method]} | ' + ' | '.join(cells) + ' |')
        lines.append('')
    return '\n'.join(lines)


def main(argv: Sequence[str] = None):
    args = parse_args(argv)
    runs = {}
    for method, *paths in args.run:
        if not paths:
            raise ValueError(f'--run {method} needs at least one metrics path')
        runs.setdefault(method, []).extend(load_metrics(p) for p in paths)
    summary = summarize(runs)
    table = markdown_tables(summary)
    print(table)
    for path, text in ((args.out, table), (args.json, json.dumps(summary, indent=2))):
        if path:
            os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
            with open(path, 'w') as f:
                f.write(text + '\n')


if __name__ == '__main__':
    from mmproseco.tools.cli import run_cli
    run_cli(main)
