"""The ranked branch's report: crop accuracy and OOD AUROC per method over seeds, with 95 %
Student-t intervals, and the ranked loss compared with each other method seed by seed.

    python -m mmproseco.pipeline ranked-report \\
        --run "Ours (ranked)" results/metrics/ranked/ranked-contrastive_seed*.json \\
        --run SupCon results/metrics/ranked/supcon_seed*.json \\
        --out results/ranked/report.md --json results/ranked/report.json

Each ``--run METHOD PATH [PATH ...]`` gives one method and one metrics source per seed: a
JSON file (the ranked stage's metrics, or the dict mmengine's test writes to
``<work_dir>/<time>/<time>.json``, or a JSON-lines ``scalars.json``, whose last record with
the metrics is used) or a work dir (its newest test result). The seed of a source is the
``seed<S>`` of its name, as dvc.yaml names them (``<method>_seed<S>.json``): the methods are
paired by it. The first ``--run`` is the ranked loss, compared with every other method.
With ``--params``, only the seeds of its ``study.ranked_seeds`` are kept: the files of a
seed since dropped stay in ``results/`` and are left out.

:func:`build_report` gives the dict that ``--json`` writes (values unrounded, in [0, 1]);
:func:`render_markdown` turns that dict, and nothing else, into ``--out``.
"""
import argparse
import glob
import json
import os
import os.path as osp
import re
from typing import Dict, List, Sequence

from .files import write_json
from .params import load_params
from .scalars import read_scalars
from .statistics import LEVEL, mean_interval, paired_comparison, summarize, verdict

#: The accuracies of PrototypeAccuracy, by their report names.
ACCURACIES = {'accuracy': 'proto/accuracy', 'mean_class_accuracy': 'proto/mean_class_accuracy'}
#: OODAUROC's keys: ``ood/auroc_<score>`` (every withheld class) and
#: ``ood/auroc_<score>/<class>`` (one withheld class against the in-distribution crops).
AUROC_KEY = re.compile(r'ood/auroc_(\w+)(?:/(.+))?')
ALL = 'all'  # the report's name of the AUROC against every withheld class together
SWEEP = 'ood/sweep_auc_max_softmax'  # the original's 25-threshold trapezoid, for parity
#: OODAUROC's diagnostic of max-softmax: the mean gap between a crop's two highest prototype
#: cosines, over the in-distribution and over the withheld query crops.
TOP2_GAP = {'inlier': 'ood/top2_gap_inlier', 'withheld': 'ood/top2_gap_withheld'}
SCORES = ('max_softmax', 'max_cosine', 'gaussian')  # the order of the tables
SCORE_TITLES = {'max_softmax': 'max-softmax', 'max_cosine': 'max-cosine',
                'gaussian': 'Gaussian'}
#: What each OOD score measures (docs/ranked_contrastive.md, "Metrics").
MEASURES = {
    'max_softmax': 'the original\'s score: the largest softmax, at temperature 1, of a crop\'s '
                   'cosines to the class prototypes. It measures how much the nearest '
                   'prototype *stands out from the others*, not how near it is: with cosines '
                   'in [-1, 1] the softmax is nearly flat, and a crop with two high prototype '
                   'cosines scores low.',
    'max_cosine': 'the cosine to the nearest class prototype: how near a crop is to *some* '
                  'trained class, whatever the other prototypes do.',
    'gaussian': 'official RINCE\'s: one full-covariance Gaussian per trained class on the '
                'normalised backbone features of the prototype crops, and a crop\'s largest '
                'log-density: how typical its backbone feature is of some class, with the '
                'class\'s spread taken into account.',
}
#: Why each score falls below 0.5 when it does: it then ranks withheld crops above inliers.
BELOW_HALF = {
    'max_softmax': 'Trained sibling classes (one cue apart in the ranking) that merge into '
                   'shared clusters give an inlier crop *two* high prototype cosines, its '
                   'class\'s and its sibling\'s, and split its softmax mass between them; a '
                   'withheld crop near one prototype only keeps the mass on that one, so its '
                   'max softmax is larger. max-cosine is not fooled by the second prototype.',
    'max_cosine': 'The withheld crops lie nearer a trained prototype than the inliers do: the '
                  'embedding has put the withheld class inside a trained class\'s cluster '
                  '(near OOD, e.g. one cue from a trained class), while inliers spread more '
                  'widely around their own prototypes.',
    'gaussian': 'The withheld crops\' backbone features are more typical of some trained '
                'class\'s Gaussian than the inliers\' are of their own: the backbone does not '
                'tell the withheld class from a trained one.',
}
#: The metrics on which the ranked loss is compared with every other method.
COMPARED = ('accuracy', *(f'auroc.{score}.{ALL}' for score in SCORES))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog='python -m mmproseco.pipeline ranked-report',
        description='The ranked branch\'s report: accuracy and OOD AUROC with 95 % intervals')
    parser.add_argument('--run', nargs='+', action='append', required=True,
                        metavar=('METHOD', 'PATH'), help='a method name and one metrics '
                        'JSON or work dir per seed, each named ..._seed<S>; repeat for each '
                        'method, the ranked loss first')
    parser.add_argument('--params', help="keep only the seeds of this params.yaml's "
                        'study.ranked_seeds (default: every source given)')
    parser.add_argument('--out', help='write the markdown here')
    parser.add_argument('--json', help='write the report (what the markdown is made of) here')
    return parser.parse_args(argv)


# ----------------------------------------------------------------------------- reading
def is_metric(key: str) -> bool:
    return key.startswith(('proto/', 'ood/'))


def _records(path: str) -> List[dict]:
    """A metrics dict of a JSON file, or the records of a JSON-lines ``scalars.json``."""
    if osp.basename(path) == 'scalars.json':
        return read_scalars(path)
    with open(path) as f:
        content = json.load(f)
    return [content] if isinstance(content, dict) else []


def _has_metrics(record: dict) -> bool:
    return any(is_metric(k) for k in record)


def load_metrics(path: str) -> Dict[str, float]:
    """The accuracy and OOD metrics of the last record that has them, in a JSON file or in
    the newest test result of a work dir."""
    if osp.isdir(path):
        candidates = [p for p in glob.glob(osp.join(path, '*', '*.json'))
                      if osp.basename(p)[:-5] == osp.basename(osp.dirname(p))]
        candidates += glob.glob(osp.join(path, '*', 'vis_data', 'scalars.json'))
        candidates = [p for p in sorted(candidates, key=osp.getmtime)
                      if any(_has_metrics(r) for r in _records(p))]
        if not candidates:
            raise FileNotFoundError(f'no metrics JSON with proto/ or ood/ keys under {path!r};'
                                    ' run the test tool on that work dir first')
        path = candidates[-1]
    elif not osp.isfile(path):
        raise FileNotFoundError(f'{path!r} is neither a metrics JSON nor a work dir')
    records = [r for r in _records(path) if _has_metrics(r)]
    if not records:
        raise ValueError(f'{path!r} holds no proto/ or ood/ metrics')
    return {k: float(v) for k, v in records[-1].items() if is_metric(k)}


def seed_of(path: str) -> int:
    """The seed in the name of a metrics file or work dir: ``supcon_seed2.json`` -> 2."""
    found = re.findall(r'seed(\d+)', osp.basename(osp.normpath(path)))
    if not found:
        raise ValueError(f'{path!r}: no seed<S> in its name; name each run ..._seed<S> '
                         '(as dvc.yaml does) so the methods can be paired by seed')
    return int(found[-1])


def load_method(paths: Sequence[str]) -> Dict[int, Dict[str, float]]:
    """{seed: metrics} of one method's sources."""
    runs = {}
    for path in paths:
        seed = seed_of(path)
        if seed in runs:
            raise ValueError(f'two sources of seed {seed}, the second {path!r}')
        runs[seed] = load_metrics(path)
    return dict(sorted(runs.items()))


# --------------------------------------------------------------------------- the report
def over_seeds(by_seed: Dict[int, float], level: float = LEVEL) -> dict:
    """One metric of a method over its seeds: ``values`` and ``seeds`` (ordered by seed),
    ``mean``, ``std`` (ddof 1), ``n`` and the Student-t interval of the mean ``ci_low``,
    ``ci_high`` with its ``t``; std and interval are None at n = 1."""
    seeds = sorted(by_seed)
    values = [by_seed[s] for s in seeds]
    entry = dict(values=values, seeds=seeds, **summarize(values), ci_low=None, ci_high=None,
                 t=None)
    if len(values) > 1:
        interval = mean_interval(values, level)
        entry.update(ci_low=interval['ci_low'], ci_high=interval['ci_high'], t=interval['t'])
    return entry


def method_summary(runs: Dict[int, Dict[str, float]]) -> dict:
    """``accuracy``, ``mean_class_accuracy``, ``auroc.<score>.<withheld class or 'all'>``,
    ``top2_gap.{inlier,withheld}`` and ``sweep_auc_max_softmax``, each :func:`over_seeds`,
    for the metrics the runs hold."""
    def metric(key):
        return over_seeds({s: m[key] for s, m in runs.items() if key in m})

    keys = {k for m in runs.values() for k in m}
    summary = dict(seeds=sorted(runs))
    summary.update({name: metric(key) for name, key in ACCURACIES.items() if key in keys})
    auroc = {}
    for key in sorted(keys):
        match = AUROC_KEY.fullmatch(key)
        if match:
            auroc.setdefault(match[1], {})[match[2] or ALL] = metric(key)
    if auroc:
        summary['auroc'] = {score: auroc[score] for score in ordered_scores(auroc)}
    if set(TOP2_GAP.values()) <= keys:
        summary['top2_gap'] = {crops: metric(key) for crops, key in TOP2_GAP.items()}
    if SWEEP in keys:
        summary['sweep_auc_max_softmax'] = metric(SWEEP)
    return summary


def ordered_scores(scores) -> List[str]:
    return [s for s in SCORES if s in scores] + sorted(set(scores) - set(SCORES))


def lookup(summary: dict, path: str):
    """The entry at a dotted path (``auroc.gaussian.all``), None if absent."""
    for part in path.split('.'):
        summary = summary.get(part) if isinstance(summary, dict) else None
    return summary


def compare(reference: str, methods: Dict[str, dict], level: float = LEVEL) -> List[dict]:
    """The ranked loss (``reference``) against every other method on each metric of
    COMPARED that both have, paired by seed: ``diff_mean`` (reference minus the other),
    its Student-t interval and the verdict; one shared seed gives the difference and no
    interval, none leaves the pair out."""
    comparisons = []
    for against in [name for name in methods if name != reference]:
        for path in COMPARED:
            ours, theirs = lookup(methods[reference], path), lookup(methods[against], path)
            if ours is None or theirs is None:
                continue
            ours, theirs = (dict(zip(e['seeds'], e['values'])) for e in (ours, theirs))
            seeds = sorted(set(ours) & set(theirs))
            if not seeds:
                continue
            entry = dict(metric=path, method=reference, against=against, seeds=seeds,
                         differences=[ours[s] - theirs[s] for s in seeds], n=len(seeds),
                         ci_low=None, ci_high=None, t=None)
            entry['diff_mean'] = sum(entry['differences']) / len(seeds)
            if len(seeds) > 1:
                entry.update(paired_comparison(ours, theirs, level))
            entry['verdict'] = verdict(entry['ci_low'], entry['ci_high'])
            comparisons.append(entry)
    return comparisons


def build_report(runs: Dict[str, Dict[int, Dict[str, float]]], level: float = LEVEL) -> dict:
    """The report of ``runs`` ({method: {seed: metrics}}, the ranked loss first)."""
    methods = {name: method_summary(by_seed) for name, by_seed in runs.items()}
    reference = next(iter(runs))
    comparisons = compare(reference, methods, level)
    withheld = sorted({c for m in methods.values() for per_class in m.get('auroc', {}).values()
                       for c in per_class} - {ALL})
    return dict(level=level, order=list(runs), reference=reference, withheld=withheld,
                methods=methods, comparisons=comparisons, comparison_count=len(comparisons),
                chance_of_a_verdict=1 - level ** len(comparisons))


# ---------------------------------------------------------------- markdown, from the dict
def interval_text(entry: dict) -> str:
    if entry is None:
        return '–'
    if entry['ci_low'] is None:
        return f"{entry['mean']:.3f} (n = {entry['n']})"
    return f"{entry['mean']:.3f} [{entry['ci_low']:.3f}, {entry['ci_high']:.3f}]"


def metric_title(path: str) -> str:
    if path == 'accuracy':
        return 'accuracy'
    _, score, target = path.split('.')
    return f"AUROC {SCORE_TITLES.get(score, score)} ({'all withheld' if target == ALL else target})"


def comparison_sentence(c: dict) -> str:
    """'beats'/'trails' only when the interval excludes 0 (issue 14)."""
    what, method, against = metric_title(c['metric']), c['method'], c['against']
    if c['verdict'] == 'no interval':
        return (f"{method} against {against} on {what}: one shared seed (difference "
                f"{c['diff_mean']:+.3f}), no interval at n = 1.")
    interval = (f"95 % interval {c['ci_low']:+.3f} to {c['ci_high']:+.3f}, n = {c['n']}, "
                f"t = {c['t']:.2f}")
    if c['verdict'] == 'no detectable difference':
        return (f"{method} against {against} on {what}: no detectable difference at "
                f"n = {c['n']} (difference {c['diff_mean']:+.3f}, {interval}).")
    return (f"{method} {c['verdict']} {against} on {what} by {abs(c['diff_mean']):.3f} "
            f"({interval}).")


def gap_evidence(name: str, method: dict) -> str:
    """Whether a method's top-2 cosine gaps show the merged siblings of BELOW_HALF."""
    gaps = method.get('top2_gap')
    if gaps is None:
        return f'{name}: no top-2 gap recorded'
    shown = gaps['inlier']['mean'] < gaps['withheld']['mean']
    return (f"{name}: inliers {gaps['inlier']['mean']:.3f}, withheld "
            f"{gaps['withheld']['mean']:.3f} "
            f"({'consistent with it' if shown else 'not smaller for inliers: it does not hold'})")


def below_half_lines(report: dict) -> List[str]:
    """For each score whose mean AUROC is below 0.5 somewhere: where, and why (with the
    top-2 cosine gaps that show it for max-softmax)."""
    lines = []
    for score in SCORES:
        cases = []  # (method, text)
        for name in report['order']:
            for target, entry in report['methods'][name].get('auroc', {}).get(score, {}).items():
                if entry['mean'] < 0.5:
                    beyond = entry['ci_high'] is not None and entry['ci_high'] < 0.5
                    cases.append((name, f"{name} ({'all withheld' if target == ALL else target}"
                                        f": {interval_text(entry)}"
                                        f"{', interval below 0.5' if beyond else ''})"))
        if not cases:
            continue
        line = (f"- **{SCORE_TITLES[score]} below 0.5**: {'; '.join(t for _, t in cases)}. "
                f'{BELOW_HALF[score]}')
        if score == 'max_softmax':
            evidence = [gap_evidence(name, report['methods'][name])
                        for name in dict.fromkeys(name for name, _ in cases)]
            line += (" Mean gap between a crop's two highest prototype cosines, over seeds: "
                     + '; '.join(evidence) + '.')
        lines.append(line)
    if not lines:
        return ['No mean AUROC is below 0.5.', '']
    return ['An AUROC below 0.5 means the score ranks withheld crops above inliers; the '
            'labels and the sign are right (in-distribution is the positive class).', '',
            *lines, '']


def render_markdown(report: dict) -> str:
    order, methods = report['order'], report['methods']
    level = f"{100 * report['level']:g} %"
    lines = [f'Mean over seeds with its {level} Student-t interval [low, high] (n - 1 degrees '
             'of freedom); "(n = 1)": one seed, no interval.', '',
             '**Crop classification accuracy (nearest prototype)**', '',
             '| method | seeds | accuracy | mean class accuracy |', '|---|---|---|---|']
    for name in order:
        m = methods[name]
        lines.append(f"| {name} | {', '.join(map(str, m['seeds']))} | "
                     f"{interval_text(m.get('accuracy'))} | "
                     f"{interval_text(m.get('mean_class_accuracy'))} |")
    scores = ordered_scores({s for m in methods.values() for s in m.get('auroc', {})})
    targets = [ALL, *report['withheld']]
    for score in scores:
        lines += ['', f'**OOD AUROC, {SCORE_TITLES.get(score, score)}**: '
                  f'{MEASURES.get(score, "")}', '',
                  '| method | ' + ' | '.join(['all withheld', *report['withheld']]) + ' |',
                  '|---|' + '---|' * len(targets)]
        for name in order:
            per_target = methods[name].get('auroc', {}).get(score, {})
            cells = [interval_text(per_target.get(target)) for target in targets]
            lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
    lines += ['', *below_half_lines(report)]
    count, chance = report['comparison_count'], 100 * report['chance_of_a_verdict']
    lines += [f"**{count} paired comparisons** ({report['reference']} against each other "
              'method on accuracy and on each score\'s AUROC over all withheld classes): the '
              'mean over the seeds both share of the per-seed difference (the ranked loss '
              f'minus the other), with its {level} Student-t interval. A method "beats" or '
              '"trails" another only when the interval excludes 0. The intervals are **not '
              'corrected for multiplicity**: were they independent, at least one of the '
              f'{count} would exclude 0 by chance in {chance:.0f} % of studies without any '
              'true difference.', '']
    lines += [f'- {comparison_sentence(c)}' for c in report['comparisons']]
    return '\n'.join(lines) + '\n'


def main(argv: Sequence[str] = None):
    args = parse_args(argv)
    seeds = None if args.params is None else set(load_params(args.params)['study'][
        'ranked_seeds'])
    runs = {}
    for method, *paths in args.run:
        if not paths:
            raise ValueError(f'--run {method} needs at least one metrics path')
        if method in runs:
            raise ValueError(f'--run {method} is given twice')
        runs[method] = {seed: metrics for seed, metrics in load_method(paths).items()
                        if seeds is None or seed in seeds}
        if not runs[method]:
            raise ValueError(f'--run {method}: none of its sources is of the seeds '
                             f'{sorted(seeds)} of {args.params}')
    report = build_report(runs)
    markdown = render_markdown(report)
    print(markdown)
    if args.json:
        write_json(args.json, report)
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            f.write(markdown)


if __name__ == '__main__':
    from mmproseco.tools.cli import run_cli
    run_cli(main)
