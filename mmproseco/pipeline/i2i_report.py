"""The I2I report: per scenario and row, test AP50 per class and mAP50 over the adapter seeds,
the gap closed, and Translated against CUT seed by seed.

The training stages of each scenario test what they trained and score the predictions here
(:func:`ap50_scores`), one metrics file per row and run under
``results/metrics/i2i/<scenario>/``:

- ``source.json``: the source detector (trained on the clear images) on the target test
  images, raw (row ``Source``); ``clear-ceiling.json``: the same frozen detector on the clear
  versions of those images (``Clear ceiling``);
- ``oracle.json``: a detector trained on the target domain (``Target oracle``);
- ``<adapter>_seed<s>.json``: the frozen source detector behind each adapter of
  params.yaml ``i2i.adapters``, one per seed of ``study.i2i_seeds`` (:data:`ADAPTER_ROWS`).

``python -m mmproseco.pipeline i2i-report --metrics results/metrics/i2i --out results/i2i``
writes ``report.json`` and ``report.md`` (rendered from the JSON alone). Per scenario and
row: ``mAP50`` and each class of ``per_class`` as ``{values, seeds, mean, ci_low, ci_high,
n}`` (95 % Student-t over the adapter seeds, :mod:`.statistics`; a row of one run has no
interval), ``gap_closed_oracle`` = (row − Source) / (Target oracle − Source) and
``gap_closed_ceiling`` = (row − Source) / (Clear ceiling − Source), each per seed and with
the same fields, and ``source_keeps`` (Source / Clear ceiling). ``comparison``: Translated
minus CUT, paired by seed, with the wording rule of the study's report (:func:`.report.verdict`).
"""
import argparse
import os.path as osp
from typing import Dict, List, Optional

from .coco_scores import evaluate_bbox, load_coco
from .files import write_json
from .params import load_params
from .report import read_json, verdict
from .statistics import LEVEL, mean_interval, paired_comparison

#: The report's rows, in table order.
ROWS = ('Source', 'Translated', 'CUT', 'No local-global', 'Target oracle', 'Clear ceiling')
#: The row of each adapter of params.yaml ``i2i.adapters``.
ADAPTER_ROWS = {'attention-i2i': 'Translated', 'cut': 'CUT', 'attention-i2i-no-lg':
                'No local-global'}
#: The metrics file of each row that is trained once per scenario.
FIXED_ROWS = {'Source': 'source', 'Target oracle': 'oracle', 'Clear ceiling': 'clear-ceiling'}
#: The pair compared seed by seed: (method, against).
COMPARISON = ('Translated', 'CUT')


def ap50_scores(ann_file: str, predictions: List[dict]) -> dict:
    """COCO AP at IoU 0.5 of mmdet prediction dumps, per class and their mean, unrounded.

    A class's AP50 is the mean over COCOeval's 101 recall thresholds of its interpolated
    precision (``eval['precision'][0, :, k, 0, -1]``: IoU 0.5, area 'all', 100 detections);
    a class without ground truth among the scored images has none (None). ``mAP50`` is
    COCOeval's ``stats[1]``, the mean over the classes that have one.

    Returns:
        dict: ``mAP50`` in [0, 1] and ``per_class`` ({class name: AP50 or None}).
    """
    coco = load_coco(ann_file)
    cat_ids = sorted(coco.getCatIds())
    names = [coco.loadCats(c)[0]['name'] for c in cat_ids]
    evaluator = evaluate_bbox(coco, predictions)
    if evaluator is None:  # no box at all: every class with ground truth scores 0
        with_gt = {coco.loadAnns(a)[0]['category_id'] for a in coco.getAnnIds(
            imgIds=sorted({p['img_id'] for p in predictions}))}
        return dict(mAP50=0.0, per_class={n: 0.0 if c in with_gt else None
                                          for n, c in zip(names, cat_ids)})
    precision = evaluator.eval['precision'][0, :, :, 0, -1]
    per_class = {}
    for k, name in enumerate(names):
        valid = precision[:, k][precision[:, k] > -1]
        per_class[name] = float(valid.mean()) if valid.size else None
    return dict(mAP50=float(evaluator.stats[1]), per_class=per_class)


def interval(values: List[Optional[float]], seeds: Optional[List[int]] = None) -> dict:
    """``{values, seeds, mean, ci_low, ci_high, n}`` of one row's runs: the 95 % Student-t
    interval of the mean at n ≥ 2, no interval for one run; all None when any run has no
    value (a class without ground truth)."""
    entry = dict(values=values, seeds=seeds, mean=None, ci_low=None, ci_high=None,
                 n=len(values))
    if not values or any(v is None for v in values):
        return entry
    if len(values) == 1:
        entry['mean'] = values[0]
    else:
        stats = mean_interval(values)
        entry.update(mean=stats['mean'], ci_low=stats['ci_low'], ci_high=stats['ci_high'])
    return entry


def gap_closed(values: List[float], source: float, reference: float) -> Optional[List[float]]:
    """The share of the Source → reference gap each value closes; None without a gap."""
    if reference == source:
        return None
    return [(v - source) / (reference - source) for v in values]


def scenario_report(runs: Dict[str, List[dict]]) -> dict:
    """The rows of one scenario from its runs ({row: [scores of :func:`ap50_scores` with
    ``seed`` for the adapters]}, every row of :data:`ROWS` present)."""
    missing = [row for row in ROWS if not runs.get(row)]
    if missing:
        raise ValueError(f'the I2I report needs every row; no runs for {missing}')
    source = runs['Source'][0]['mAP50']
    references = {'oracle': runs['Target oracle'][0]['mAP50'],
                  'ceiling': runs['Clear ceiling'][0]['mAP50']}
    rows = {}
    for row in ROWS:
        seeds = [r['seed'] for r in runs[row]] if 'seed' in runs[row][0] else None
        values = [r['mAP50'] for r in runs[row]]
        entry = dict(mAP50=interval(values, seeds), per_class={
            name: interval([r['per_class'][name] for r in runs[row]], seeds)
            for name in runs[row][0]['per_class']})
        for name, reference in references.items():
            gaps = gap_closed(values, source, reference)
            entry[f'gap_closed_{name}'] = None if gaps is None else interval(gaps, seeds)
        rows[row] = entry
    method, against = COMPARISON
    by_seed = {row: {r['seed']: r['mAP50'] for r in runs[row]} for row in COMPARISON}
    comparison = dict(method=method, against=against, diff_mean=None, ci_low=None,
                      ci_high=None, n=None)
    if len(set(by_seed[method]) & set(by_seed[against])) >= 2:
        comparison.update(paired_comparison(by_seed[method], by_seed[against]))
    comparison['verdict'] = verdict(comparison['ci_low'], comparison['ci_high'])
    return dict(rows=rows, source_keeps=source / references['ceiling']
                if references['ceiling'] else None, comparison=comparison)


def load_scenario(folder: str, adapters: List[str], seeds: List[int]) -> Dict[str, List[dict]]:
    """{row: [runs]} from one scenario's metrics folder: the study's adapters and seeds only
    (files of runs since dropped are left out)."""
    runs = {row: [read_json(osp.join(folder, f'{name}.json'))]
            for row, name in FIXED_ROWS.items()}
    for adapter in adapters:
        runs[ADAPTER_ROWS[adapter]] = [read_json(osp.join(folder, f'{adapter}_seed{s}.json'))
                                       for s in seeds]
    return runs


def build_i2i_report(metrics: str, scenarios: List[str], adapters: List[str],
                     seeds: List[int]) -> dict:
    """What ``report.json`` holds: the level, the seeds and each scenario's rows."""
    return dict(level=LEVEL, seeds=list(seeds), scenarios={
        name: scenario_report(load_scenario(osp.join(metrics, name), adapters, seeds))
        for name in scenarios})


# --- markdown, from the report's dict only -----------------------------------------------

def pct(value: Optional[float]) -> str:
    return '—' if value is None else f'{100 * value:.2f}'


def cell(entry: Optional[dict], scale=pct) -> str:
    """mean [ci_low, ci_high] of an interval entry; the mean alone for one run."""
    if entry is None or entry['mean'] is None:
        return '—'
    if entry['ci_low'] is None:
        return scale(entry['mean'])
    return f"{scale(entry['mean'])} [{scale(entry['ci_low'])}, {scale(entry['ci_high'])}]"


def ratio(value: float) -> str:
    return f'{value:.3f}'


def comparison_sentence(c: dict) -> str:
    """The wording rule: 'beats'/'trails' only when the interval excludes 0."""
    if c['verdict'] == 'no interval':
        return f"{c['method']} against {c['against']}: fewer than 2 shared seeds, no interval."
    text = (f"difference {pct(c['diff_mean'])} AP50 points, 95 % interval "
            f"{pct(c['ci_low'])} to {pct(c['ci_high'])}, n = {c['n']}, t = {c['t']:.2f}")
    if c['verdict'] == 'no detectable difference':
        return (f"{c['method']} against {c['against']}: no detectable difference at "
                f"n = {c['n']} ({text}).")
    return f"{c['method']} {c['verdict']} {c['against']} ({text})."


def render_markdown(report: dict) -> str:
    """``report.md``: per scenario the rows (mAP50, gap closed, per-class AP50) and the
    paired comparison, from :func:`build_i2i_report`'s dict alone (as ``report.json`` holds
    it: its keys sorted, so the rows are put in :data:`ROWS` order here)."""
    n = len(report['seeds'])
    lines = ['I2I adapters in front of a frozen source detector. AP50 in %, unrounded from '
             f"COCOeval; adapter rows: mean over seeds {report['seeds']} with the "
             f"{report['level']:.0%} Student-t interval in brackets (n = {n}). Source, "
             'Target oracle and Clear ceiling are one run each. Gap closed: (row − Source) / '
             '(reference − Source).', '']
    for name, scenario in report['scenarios'].items():
        rows = scenario['rows']
        classes = sorted(rows['Source']['per_class'])
        keeps = scenario['source_keeps']
        lines += [f'### {name}', '',
                  f"Source keeps {'—' if keeps is None else ratio(keeps)} of the Clear "
                  "ceiling's mAP50.", '',
                  '| row | mAP50 | gap closed (oracle) | gap closed (ceiling) |',
                  '|---|---|---|---|']
        for row in ROWS:
            entry = rows[row]
            lines.append(f"| {row} | {cell(entry['mAP50'])} | "
                         f"{cell(entry['gap_closed_oracle'], ratio)} | "
                         f"{cell(entry['gap_closed_ceiling'], ratio)} |")
        lines += ['', '| row | ' + ' | '.join(classes) + ' |',
                  '|---' * (len(classes) + 1) + '|']
        for row in ROWS:
            lines.append(f'| {row} | ' + ' | '.join(cell(rows[row]['per_class'][c])
                                                    for c in classes) + ' |')
        lines += ['', comparison_sentence(scenario['comparison']), '']
    return '\n'.join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog='python -m mmproseco.pipeline i2i-report',
                                     description=__doc__.split('\n')[0])
    parser.add_argument('--metrics', required=True, help='results/metrics/i2i')
    parser.add_argument('--out', required=True, help='the folder of report.json and report.md')
    parser.add_argument('--params', default='params.yaml')
    args = parser.parse_args(argv)
    params = load_params(args.params)
    report = build_i2i_report(args.metrics, list(params['i2i']['scenarios']),
                              params['i2i']['adapters'], params['study']['i2i_seeds'])
    write_json(osp.join(args.out, 'report.json'), report)
    with open(osp.join(args.out, 'report.md'), 'w') as f:
        f.write(render_markdown(read_json(osp.join(args.out, 'report.json'))))
