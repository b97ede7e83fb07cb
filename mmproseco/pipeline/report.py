"""Write results/report.json, results/report.md rendered from it, and the report's figures,
from the files the stages of one `dvc repro` wrote.

    python -m mmproseco.pipeline report --metrics results/metrics --out results ...

Every number in the report is read from a JSON file under --metrics, --timings or --curves,
each a dependency of the ``report`` stage. :func:`build_report` gathers them into one dict,
written as ``report.json`` (mAP unrounded, in [0, 1]); :func:`render_markdown` turns that
dict, and nothing else, into ``report.md`` (mAP as percentages with 2 decimals). The
figures are PNG (DVC's HTML plots need a CDN).
"""
import argparse
import glob
import json
import os
import os.path as osp
import re
from collections import defaultdict

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import yaml  # noqa: E402

from .convergence import MIN_TOLERANCE, plateau_reached  # noqa: E402
from .files import write_json  # noqa: E402
from .scalars import read_curves  # noqa: E402
from .statistics import (LEVEL, mean_interval, paired_comparison, paired_differences,  # noqa: E402
                         summarize, verdict)

METHOD_ORDER = ('scratch', 'detreg', 'sce', 'proseco')
METHOD_NAMES = {'scratch': 'Random init (supervised only)', 'detreg': 'DETReg-style',
                'sce': 'SCE (LocSCE with delta = 1)', 'proseco': 'ProSeCo (LocSCE)',
                'ceiling': 'Fully supervised ceiling (100 % of train)',
                'image-sce-backbone': 'ImageSCE backbone'}
#: Every method is compared with random init, and ProSeCo with every other method.
REFERENCE, OURS = 'scratch', 'proseco'
CEILING_FRACTION = 100.0
FINETUNE_FIELDS = ('method', 'fraction', 'seed', 'bbox_mAP', 'bbox_mAP_50', 'best_val_iter',
                   'last_val_iter', 'val_history', 'converged')
#: The final scalars of a pretraining's metrics: TeacherEMAHook's parameter distances
#: (its DISTANCE_NAMES) and LocSCE's mean |P(i)| and matched-pair cosine.
PRETRAIN_SCALARS = ('teacher_student_distance', 'teacher_init_distance',
                    'student_init_distance', 'mean_positives_per_query', 'matched_cos')
#: Below this mean |P(i)| at the end of a ProSeCo pretraining, LocSCE's positive sets are
#: (almost) only the matched proposal, which is SCE (issue 14).
SCE_LIKE_POSITIVES = 1.2
#: The teacher has left its initialisation when it is at least this share of the student's
#: distance from it (issue 14's acceptance).
TEACHER_MOVED_RATIO = 0.5
#: (part, item) of the budget for the timings files of a stage family (their folder under
#: the timings folder); the pretrain family is split by :func:`budget_item`.
BASELINES_PART = 'DeepForest baselines (Faster R-CNN is the I2I source)'
FAMILIES = {'proposals': ('ProSeCo', 'proposals'), 'finetune': ('ProSeCo', 'fine-tunings'),
            'ceiling': ('ProSeCo', 'ceiling'), 'delta': ('ProSeCo', 'delta ablation'),
            'ranked': ('ranked', 'ranked'), 'i2i': ('I2I', 'i2i'),
            'baselines': (BASELINES_PART, 'baselines')}
PART_ORDER = ('ProSeCo', 'ranked', 'I2I', BASELINES_PART)
#: The delta ablation's runs are ProSeCo pretrained with LocSCE's delta d: method
#: 'proseco-delta<d>', files 'delta<d>_seed<s>.json' under delta/ (dvc.yaml).
DELTA_FOLDER, DELTA_PREFIX = 'delta', f'{OURS}-delta'
#: The folders (under metrics/, curves/, timings/) of the runs a study's lists decide.
STUDY_FAMILIES = ('pretrain', 'finetune', 'ceiling', DELTA_FOLDER)
FIGURES = dict(map_vs_fraction='map_vs_fraction.png', training_curves='training_curves.png',
               pretraining_dynamics='pretraining_dynamics.png')


def delta_method(delta):
    """The method name of the delta ablation's run with LocSCE's ``delta``: 'proseco-delta0.5'."""
    return f'{DELTA_PREFIX}{float(delta):g}'


def run_method(run):
    """The method of a fine-tuning run: its ``method``, with its ``delta`` if ablated."""
    return delta_method(run['delta']) if 'delta' in run else run['method']


def study_file(root, family, method, seed, fraction=None):
    """The name dvc.yaml gives a run's file (metrics or curves under ``root``):
    ``<family>/<method>[_<fraction>pct]_seed<s>.json``, or for the delta ablation
    ``delta/<family>/delta<d>_seed<s>.json``."""
    if method.startswith(DELTA_PREFIX):
        delta = method[len(DELTA_PREFIX):]
        return osp.join(root, DELTA_FOLDER, family, f'delta{delta}_seed{seed}.json')
    size = f'_{float(fraction):g}pct' if fraction is not None else ''
    return osp.join(root, family, f'{method}{size}_seed{seed}.json')


def study_run(path):
    """(method, seed, fraction or None) of the run whose file is ``path``, relative to a
    metrics, curves or timings folder, named as dvc.yaml names them (:func:`study_file`,
    ``ceiling/seed<s>.json``); None for any other name, e.g. an older graph's."""
    family, name = path.split(os.sep)[0], osp.basename(path)[:-len('.json')]
    if family == 'finetune':
        match = re.fullmatch(r'(.+)_([\d.]+)pct_seed(\d+)', name)
        return match and (match[1], int(match[3]), float(match[2]))
    if family == 'ceiling':
        match = re.fullmatch(r'seed(\d+)', name)
        return match and ('ceiling', int(match[1]), CEILING_FRACTION)
    if family == DELTA_FOLDER:
        match = re.fullmatch(r'delta([\d.]+)_seed(\d+)', name)
        return match and (delta_method(match[1]), int(match[2]), None)
    if family == 'pretrain':
        match = re.fullmatch(r'(.+)_seed(\d+)', name)
        return match and (match[1], int(match[2]), None)
    return None


def method_name(method):
    """A method's name in the report: 'proseco-delta0.5' -> 'ProSeCo (LocSCE), delta = 0.5'."""
    if method.startswith(DELTA_PREFIX):
        return f'{METHOD_NAMES[OURS]}, delta = {method[len(DELTA_PREFIX):]}'
    return METHOD_NAMES.get(method, method)


def method_color(method, methods):
    """The same colour for a method in every figure: 'C0'-'C3' for METHOD_ORDER, the next
    ones for the other ``methods`` by name."""
    others = sorted(set(methods) - set(METHOD_ORDER))
    index = METHOD_ORDER.index(method) if method in METHOD_ORDER else (
        len(METHOD_ORDER) + others.index(method))
    return f'C{index % 10}'


def ordered(methods):
    """``METHOD_ORDER`` first, then any other method (e.g. 'proseco-delta0.5') by name."""
    methods = set(methods)
    return [m for m in METHOD_ORDER if m in methods] + sorted(methods - set(METHOD_ORDER))


def fraction_key(fraction):
    """The JSON key of a fraction: 10.0 -> '10'."""
    return f'{float(fraction):g}'


def pct(value):
    """An mAP (or a difference of two) in [0, 1] as a percentage with 2 decimals."""
    return f'{100 * value:.2f}'


def read_json(path):
    with open(path) as f:
        return json.load(f)


# --- fine-tuning runs and the ceiling ----------------------------------------------------

def load_runs(metrics, folder, study, required=True):
    """The metrics of the study's fine-tuning runs in ``folder`` (under ``metrics``), by
    their file names (others, e.g. of seeds since dropped, stay behind in results/), checked
    for the fields the report reads; with ``required``, raise if there is none."""
    runs = []
    for path in sorted(glob.glob(osp.join(metrics, folder, '*.json'))):
        name = study_run(osp.relpath(path, metrics))
        if not (name and in_study(study, *name)):
            continue
        run = read_json(path)
        missing = [k for k in FINETUNE_FIELDS if k not in run]
        if missing:
            raise ValueError(f'{path} lacks {missing}: written by an older finetune stage? '
                             'Rerun it (dvc repro)')
        if not 0.0 <= run['bbox_mAP'] <= 1.0:
            raise ValueError(f"{path}: bbox_mAP {run['bbox_mAP']} is not in [0, 1]")
        runs.append(run)
    if required and not runs:
        raise FileNotFoundError(f'no fine-tuning metrics of the study under '
                                f'{osp.join(metrics, folder)}; run the finetune stages first '
                                '(dvc repro)')
    return runs


def in_study(study, method, seed, fraction=None):
    """Whether a run belongs to params.yaml's ``study`` (its seeds, fractions, ceiling seeds
    and deltas): the metrics files of runs since dropped stay behind. True without one."""
    if not study:
        return True
    if method == 'ceiling':
        return seed in study['ceiling_seeds']
    if method.startswith(DELTA_PREFIX):
        return seed in study['seeds'] and method in map(delta_method, study['deltas'])
    return seed in study['seeds'] and (fraction is None or fraction in study['fractions'])


def group_cells(runs):
    """{method: {fraction: [runs ordered by seed]}}."""
    cells = defaultdict(lambda: defaultdict(list))
    for run in sorted(runs, key=lambda r: r['seed']):
        cells[run_method(run)][float(run['fraction'])].append(run)
    return cells


def cell_summary(runs):
    """Test mAP of a cell's runs: one value per seed (ordered by seed), mean, std, n, and
    the same for AP50."""
    values = [r['bbox_mAP'] for r in runs]
    ap50 = [r['bbox_mAP_50'] for r in runs]
    return dict(values=values, seeds=[r['seed'] for r in runs], **summarize(values),
                bbox_mAP_50=dict(values=ap50, **summarize(ap50)))


def best_val_map(run):
    return max(point['bbox_mAP'] for point in run['val_history'])


def cell_convergence(runs):
    """How many of a cell's runs converged: as each run recorded it, re-checked with the
    plateau rule at the tolerance max(the std over the cell's seeds of the best val mAP,
    0.01), and how many were best before their last validation."""
    seed_std = summarize([best_val_map(r) for r in runs])['std'] or 0.0
    return dict(
        runs=len(runs), converged=sum(bool(r['converged']) for r in runs),
        plateau_rechecked=sum(plateau_reached([p['bbox_mAP'] for p in r['val_history']],
                                              seed_std=seed_std) for r in runs),
        best_before_last=sum(r['best_val_iter'] < r['last_val_iter'] for r in runs),
        seed_std_best_val=seed_std, min_validations=min(len(r['val_history']) for r in runs))


def comparison_pairs(methods):
    """(method, against) pairs: every method against random init, then ProSeCo against
    every other method; each unordered pair once."""
    methods = ordered(methods)
    pairs = [(m, REFERENCE) for m in methods if REFERENCE in methods and m != REFERENCE]
    pairs += [(OURS, m) for m in methods
              if OURS in methods and m not in (OURS, REFERENCE)]
    return pairs


def compare(cells, fraction):
    """The paired comparisons at ``fraction`` of the test mAP of the methods in ``cells``.

    Pairs sharing one seed get their difference and no interval (n = 1); pairs sharing
    none are left out.
    """
    by_seed = {m: {r['seed']: r['bbox_mAP'] for r in cells[m][fraction]}
               for m in cells if fraction in cells[m]}
    comparisons = []
    for method, against in comparison_pairs(by_seed):
        seeds, differences = paired_differences(by_seed[method], by_seed[against])
        if not seeds:
            continue
        entry = dict(fraction=fraction, method=method, against=against, seeds=seeds,
                     differences=differences, diff_mean=differences[0], ci_low=None,
                     ci_high=None, n=1, t=None)
        if len(seeds) > 1:
            entry.update(paired_comparison(by_seed[method], by_seed[against]))
        entry['verdict'] = verdict(entry['ci_low'], entry['ci_high'])
        comparisons.append(entry)
    return comparisons


# --- pretraining -------------------------------------------------------------------------

def load_pretrainings(metrics, study):
    """{method: {seed: metrics}} of the study's pretrainings under ``metrics``:
    ``pretrain/<method>_seed<s>.json`` and the delta ablation's; files of other names (an
    older graph's) are left out."""
    runs = defaultdict(dict)
    for folder in ('pretrain', osp.join(DELTA_FOLDER, 'pretrain')):
        for path in sorted(glob.glob(osp.join(metrics, folder, '*.json'))):
            run = study_run(osp.relpath(path, metrics))
            if run and in_study(study, *run):
                runs[run[0]][run[1]] = read_json(path)
    return runs


def pretraining_summary(runs):
    """Per pretraining method of ``runs`` ({method: {seed: metrics}}), over its seeds: the
    final scalars of PRETRAIN_SCALARS that every seed recorded, the last total loss, the
    teacher-moved check and, for ProSeCo methods, whether mean |P(i)| is below
    SCE_LIKE_POSITIVES. Methods with none of these (random init) are left out."""
    summary = {}
    for method in ordered(runs):
        seeds = sorted(runs[method])
        metrics = [runs[method][s] for s in seeds]
        entry = dict(seeds=seeds)
        for key in PRETRAIN_SCALARS:
            if all(key in m for m in metrics):
                values = [m[key] for m in metrics]
                entry[key] = dict(values=values, **summarize(values))
        losses = [m['last_losses']['loss'] for m in metrics if 'loss' in m.get('last_losses', {})]
        if len(losses) == len(metrics):
            entry['last_loss'] = dict(values=losses, **summarize(losses))
        if 'teacher_init_distance' in entry:
            entry['teacher_moved'] = dict(
                ratio=TEACHER_MOVED_RATIO, n=len(metrics),
                holds=sum(m['teacher_init_distance']
                          >= TEACHER_MOVED_RATIO * m['student_init_distance'] for m in metrics))
        if method.startswith(OURS) and 'mean_positives_per_query' in entry:
            entry['locsce_is_sce'] = (entry['mean_positives_per_query']['mean']
                                      < SCE_LIKE_POSITIVES)
        if len(entry) > 1:  # random init has nothing to show
            summary[method] = entry
    return summary


# --- the budget --------------------------------------------------------------------------

def stage_seconds(timing):
    """The seconds of one stage: its own timestamps (``ended - started``) when it wrote
    them, else its ``wall_seconds`` or ``train_seconds``; and which of them it was."""
    if 'started' in timing and 'ended' in timing:
        return timing['ended'] - timing['started'], 'timestamps'
    for key in ('wall_seconds', 'train_seconds'):
        if key in timing:
            return timing[key], key
    raise ValueError(f'a timings file without started/ended, wall_seconds or train_seconds: '
                     f'{sorted(timing)}')


def budget_item(path):
    """(part, item) of the timings file at ``path``, relative to the timings folder: its
    folder names the stage family; a pretraining named after the backbone or random init
    counts as that. Unknown families are their own item of the part 'other'."""
    family, name = (osp.dirname(path).split(os.sep)[0] or '.'), osp.basename(path)
    if family == 'pretrain':
        if name.startswith('image-sce-backbone'):
            return 'ProSeCo', 'backbones'
        if name.startswith(REFERENCE):
            return 'ProSeCo', 'random inits'
        return 'ProSeCo', 'pretrainings'
    return FAMILIES.get(family, ('other', family))


def budget(folder, study=None):
    """Seconds per part and item, summed over the timings files under ``folder``; the
    parts in PART_ORDER, items ranked by time. Of the runs whose lists the study decides
    (STUDY_FAMILIES), only the study's count: ``left_out`` counts the others."""
    seconds = defaultdict(lambda: defaultdict(list))
    sources = defaultdict(int)
    left_out = 0
    for path in sorted(glob.glob(osp.join(folder, '**', '*.json'), recursive=True)):
        path = osp.relpath(path, folder)
        if path.split(os.sep)[0] in STUDY_FAMILIES:
            run = study_run(path)
            if not (run and in_study(study, *run)):
                left_out += 1
                continue
        part, item = budget_item(path)
        value, source = stage_seconds(read_json(osp.join(folder, path)))
        seconds[part][item].append(value)
        sources[source] += 1
    parts = []
    for part in [*PART_ORDER, *sorted(set(seconds) - set(PART_ORDER))]:
        if part not in seconds:
            continue
        items = [dict(item=item, stages=len(values), seconds=sum(values),
                      minutes=sum(values) / 60) for item, values in seconds[part].items()]
        items.sort(key=lambda i: -i['seconds'])
        total = sum(i['seconds'] for i in items)
        parts.append(dict(part=part, seconds=total, minutes=total / 60, items=items))
    total = sum(p['seconds'] for p in parts)
    return dict(parts=parts, seconds=total, minutes=total / 60, sources=dict(sources),
                left_out=left_out)


# --- figures -----------------------------------------------------------------------------

def plot_fractions(finetune, ceiling, path):
    """Test mAP against the labeled fraction: cell means with their 95 % t interval (none
    at n = 1), the ceiling as a dashed line."""
    fig, ax = plt.subplots(figsize=(5, 3.5))
    fractions = sorted({float(f) for cells in finetune.values() for f in cells})
    for method in ordered(finetune):
        fs = sorted(finetune[method], key=float)
        means = [100 * finetune[method][f]['mean'] for f in fs]
        errors = [[], []]
        for f in fs:
            cell = finetune[method][f]
            half = (100 * (mean_interval(cell['values'])['ci_high'] - cell['mean'])
                    if cell['n'] > 1 else 0.0)
            errors[0].append(half)
            errors[1].append(half)
        ax.errorbar([float(f) for f in fs], means, yerr=errors, marker='o', capsize=3,
                    color=method_color(method, finetune), label=method_name(method))
    if ceiling:
        ax.axhline(100 * ceiling['mean'], color='k', linestyle='--', linewidth=1,
                   label=f"{method_name('ceiling')}, n = {ceiling['n']}")
    ax.set_xscale('log')
    ax.minorticks_off()
    ax.set_xticks(fractions, [f'{f:g}%' for f in fractions])
    ax.set_xlabel('labeled fraction of train')
    ax.set_ylabel('test bbox mAP (%), 95 % interval')
    ax.legend(fontsize=6)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_curve(ax, path, key, scale=1.0, **kwargs):
    """Plot ``key`` against ``iter`` from the curves file at ``path``, if it has any."""
    points = [p for p in read_curves(path) if key in p] if osp.isfile(path) else []
    if points:
        ax.plot([p['iter'] for p in points], [scale * p[key] for p in points], **kwargs)


def plot_training_curves(curves_dir, methods, fraction, seed, path):
    """Pretraining loss, fine-tuning loss and val mAP of seed ``seed``: the fine-tuning
    runs at ``fraction`` and the ceiling."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.5))
    for method in methods:
        plot_curve(axes[0], study_file(curves_dir, 'pretrain', method, seed), 'loss',
                   color=method_color(method, methods), label=method_name(method))
    runs = [(m, study_file(curves_dir, 'finetune', m, seed, fraction), method_color(m, methods))
            for m in methods]
    runs.append(('ceiling', osp.join(curves_dir, 'ceiling', f'seed{seed}.json'), 'k'))
    for method, file, color in runs:
        style = dict(color=color, label=method_name(method))
        plot_curve(axes[1], file, 'loss', **style)
        plot_curve(axes[2], file, 'coco/bbox_mAP', scale=100, marker='o', **style)
    titles = ('pretraining loss', f'fine-tuning loss ({fraction:g} %, ceiling 100 %)',
              'val bbox mAP (%)')
    for ax, title in zip(axes, titles):
        ax.set_title(title, fontsize=9)
        ax.set_xlabel('iteration')
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6)
    fig.suptitle(f'seed {seed}', fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_pretraining_dynamics(curves_dir, pretraining, path):
    """Over the pretraining iterations, per method and seed: mean |P(i)|, the matched-pair
    cosine, the teacher-student distance and the distances from the initialisation
    (teacher solid, student dashed), from the scalars each run logged."""
    panels = (('positives_per_query', 'mean |P(i)| (positives per query)'),
              ('matched_cos', 'matched-pair cosine'),
              ('teacher_student_distance', 'teacher-student distance'),
              ('teacher_init_distance', 'distance from init (teacher -, student --)'))
    fig, axes = plt.subplots(1, len(panels), figsize=(16, 3.5))
    for method in ordered(pretraining):
        color = method_color(method, pretraining)
        for seed in pretraining[method]['seeds']:
            file = study_file(curves_dir, 'pretrain', method, seed)
            # one line per seed, one legend entry per method
            label = method_name(method) if seed == pretraining[method]['seeds'][0] else None
            for ax, (key, _) in zip(axes, panels):
                plot_curve(ax, file, key, color=color, label=label)
            plot_curve(axes[-1], file, 'student_init_distance', color=color, linestyle='--')
    axes[0].axhline(SCE_LIKE_POSITIVES, color='k', linestyle=':', linewidth=1)
    for ax, (_, title) in zip(axes, panels):
        ax.set_title(title, fontsize=9)
        ax.set_xlabel('pretraining iteration')
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=5)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# --- the other sections ------------------------------------------------------------------

def read_params(path):
    """params.yaml as a dict; {} if there is none (the report then keeps every run)."""
    if not osp.isfile(path):
        return {}
    with open(path) as f:
        return yaml.safe_load(f)


def baselines(folder):
    """{detector: config, test mAP and AP50} of the supervised DeepForest baselines."""
    rows = {}
    for path in sorted(glob.glob(osp.join(folder, '*.json'))):
        m = read_json(path)
        rows[osp.basename(path)[:-len('.json')]] = dict(
            config=m['config'], bbox_mAP=m['coco/bbox_mAP'], bbox_mAP_50=m['coco/bbox_mAP_50'])
    return rows


def included(title, path, note=''):
    """A section made of a markdown table another stage wrote; None if it does not exist."""
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return dict(title=title, note=note, markdown=f.read().strip())


def build_report(metrics, timings, curves, ranked, i2i, out, params):
    """Read every input, draw the figures into ``out`` and return the report as a dict:
    what ``report.json`` holds and :func:`render_markdown` prints."""
    study = params.get('study')
    runs = load_runs(metrics, 'finetune', study) + load_runs(
        metrics, osp.join(DELTA_FOLDER, 'finetune'), study, required=False)
    cells = group_cells(runs)
    ceiling_runs = load_runs(metrics, 'ceiling', study, required=False)
    fractions = sorted({f for by_fraction in cells.values() for f in by_fraction})
    finetune = {m: {fraction_key(f): cell_summary(cells[m][f]) for f in sorted(cells[m])}
                for m in ordered(cells)}
    convergence = {m: {fraction_key(f): cell_convergence(cells[m][f]) for f in sorted(cells[m])}
                   for m in ordered(cells)}
    ceiling = None
    if ceiling_runs:
        ceiling = cell_summary(sorted(ceiling_runs, key=lambda r: r['seed']))
        convergence['ceiling'] = {fraction_key(CEILING_FRACTION): cell_convergence(
            sorted(ceiling_runs, key=lambda r: r['seed']))}
    comparisons = [c for f in fractions for c in compare(cells, f)]
    pretraining = pretraining_summary(load_pretrainings(metrics, study))
    first_seed = min(r['seed'] for r in runs)
    os.makedirs(out, exist_ok=True)
    plot_fractions(finetune, ceiling, osp.join(out, FIGURES['map_vs_fraction']))
    plot_training_curves(curves, [m for m in ordered(cells)], fractions[-1], first_seed,
                         osp.join(out, FIGURES['training_curves']))
    plot_pretraining_dynamics(curves, pretraining,
                              osp.join(out, FIGURES['pretraining_dynamics']))
    sections = [
        included('Ranked contrastive object embeddings (shapes, ground-truth crops)', ranked,
                 'Written by `mmproseco/pipeline/ranked_report.py` from '
                 '`results/metrics/ranked/`; ROC curves and t-SNE maps in '
                 '`results/ranked/<method>_seed<s>/`.'),
        included('I2I adapters: fog to clear, per scenario (AP50 per class, mAP50)', i2i,
                 'Written by `mmproseco/pipeline/i2i_report.py` (the `i2i_report` stage) from '
                 '`results/metrics/i2i/` and `results/i2i/report.json`. Translation grids '
                 'and loss curves in `results/i2i/<scenario>/`.')]
    return dict(
        level=LEVEL, backbone=params.get('backbone'), finetune=finetune, ceiling=ceiling,
        comparisons=comparisons, convergence=convergence, pretraining=pretraining,
        budget=budget(timings, study), baselines=baselines(osp.join(metrics, 'baselines')),
        included=[s for s in sections if s], figures=dict(
            FIGURES, training_curves_run=dict(fraction=fractions[-1], seed=first_seed)))


# --- markdown, from the report's dict only -----------------------------------------------

def backbone_sentence(backbone):
    """How the methods' backbone started (params.yaml ``backbone``), in words."""
    if not backbone:
        return []
    if not backbone.get('use'):
        return ['Every method starts from a random backbone, trained jointly during '
                'pretraining.', '']
    frozen = 'frozen during pretraining, ' if backbone.get('frozen') else ''
    return [f"Every method, random init included, starts from an image-level SCE backbone "
            f"trained on the unlabeled pool (`{backbone['config']}`), {frozen}trained by "
            'fine-tuning; a seed re-draws it with its pretraining and split. "Random init" '
            'is a random transformer on it.', '']


def cell_text(cell):
    """'27.31 ± 1.20 (AP50 45.10, n = 3)'; a single run says n = 1 and has no std."""
    ap50 = pct(cell['bbox_mAP_50']['mean'])
    if cell['n'] < 2:
        return f"{pct(cell['mean'])} (AP50 {ap50}, n = 1, no std)"
    return f"{pct(cell['mean'])} ± {pct(cell['std'])} (AP50 {ap50}, n = {cell['n']})"


def finetune_table(report):
    finetune, ceiling = report['finetune'], report['ceiling']
    fractions = sorted({f for cells in finetune.values() for f in cells}, key=float)
    columns = fractions + ([fraction_key(CEILING_FRACTION)] if ceiling else [])
    lines = ['| pretraining | ' + ' | '.join(f'{f} %' for f in columns) + ' |',
             '|---' * (len(columns) + 1) + '|']
    for method in ordered(finetune):
        cells = [cell_text(finetune[method][f]) if f in finetune[method] else '–'
                 for f in fractions]
        lines.append(f'| {method_name(method)} | ' + ' | '.join(
            cells + ['–'] * (len(columns) - len(fractions))) + ' |')
    if ceiling:
        lines.append(f"| {method_name('ceiling')} | " + ' | '.join(
            ['–'] * len(fractions) + [cell_text(ceiling)]) + ' |')
    few = [f'{method_name(m)} at {f} %' for m in ordered(finetune)
           for f, cell in finetune[m].items() if cell['n'] < 3]
    if few:
        lines += ['', 'Fewer than 3 seeds: ' + ', '.join(few) + '.']
    return lines


def verdict_sentence(comparison):
    """One sentence per comparison; 'beats'/'trails' only for an interval excluding 0."""
    c = comparison
    method, against = method_name(c['method']), method_name(c['against'])
    if c['verdict'] == 'no interval':
        return (f"{method} against {against}: one shared seed ({pct(c['diff_mean'])} mAP), "
                'no interval at n = 1.')
    interval = (f"95 % interval {pct(c['ci_low'])} to {pct(c['ci_high'])}, "
                f"n = {c['n']}, t = {c['t']:.2f}")
    if c['verdict'] == 'no detectable difference':
        return (f"{method} against {against}: no detectable difference at n = {c['n']} "
                f"(difference {pct(c['diff_mean'])} mAP, {interval}).")
    return (f"{method} {c['verdict']} {against} by {pct(abs(c['diff_mean']))} mAP "
            f'({interval}).')


def comparison_lines(report):
    by_fraction = defaultdict(list)
    for c in report['comparisons']:
        by_fraction[c['fraction']].append(c)
    if not by_fraction:
        return ['No two methods share a seed at any fraction: nothing to compare.']
    lines = [
        'Each comparison is the mean over the seeds the two methods share of the per-seed '
        'difference of their test mAP (method minus the other; a seed shares its backbone, '
        'pretraining draw and split), with a 95 % Student-t interval on n - 1 degrees of '
        'freedom (t = 4.30 at n = 3). A method "beats" or "trails" another only when the '
        'interval excludes 0. The intervals are **not corrected for multiplicity**: each '
        'excludes 0 with 5 % probability when the two methods do not differ, so among many '
        'comparisons one may do so by chance.', '']
    for fraction in sorted(by_fraction):
        group = by_fraction[fraction]
        lines += [f"**{fraction:g} % labels: {len(group)} comparison{'s' * (len(group) > 1)}** "
                  '(every method '
                  'against random init, ProSeCo against each other method)', '',
                  *(f'- {verdict_sentence(c)}' for c in group), '']
    return lines


def convergence_lines(report):
    lines = ['| run | runs | converged (recorded) | converged (re-checked) | '
             'best val before the last | fewest validations |', '|---|---|---|---|---|---|']
    totals = defaultdict(int)
    for method in ordered(report['convergence']):
        for fraction, c in sorted(report['convergence'][method].items(),
                                  key=lambda item: float(item[0])):
            lines.append(f"| {method_name(method)}, {fraction} % | {c['runs']} | "
                         f"{c['converged']} | {c['plateau_rechecked']} | "
                         f"{c['best_before_last']} | {c['min_validations']} |")
            for key in ('runs', 'converged', 'plateau_rechecked', 'best_before_last'):
                totals[key] += c[key]
    return [
        'A run has converged when the mean of its last 3 validations is within max(one seed '
        f'std, {MIN_TOLERANCE:g} mAP) of its best (`mmproseco/pipeline/convergence.py`). '
        '"Recorded" is what the run wrote in its metrics; "re-checked" applies the rule to its '
        "val history with the std over its cell's seeds of the best val mAP (the floor "
        'alone at n = 1).', '', *lines, '',
        f"In all: {totals['converged']} of {totals['runs']} runs converged as recorded, "
        f"{totals['plateau_rechecked']} when re-checked, and {totals['best_before_last']} "
        'had their best val checkpoint before the last validation.']


def scalar_text(entry, key, digits=3):
    if key not in entry:
        return '–'
    return f"{entry[key]['mean']:.{digits}f}"


def pretraining_lines(report):
    pretraining = report['pretraining']
    if not pretraining:
        return ['No pretraining metrics with a seed in their name.']
    lines = ['Final values of each pretraining, mean over its seeds. Distances are L2 norms '
             'over all parameters of the momentum copies ("teacher") and their online '
             'modules ("student"); "init" is the student at iteration 0. The teacher has '
             f'left its start when teacher-init >= {TEACHER_MOVED_RATIO:g} x student-init.',
             '', '| method | seeds | teacher-student | teacher-init | student-init | '
             'teacher moved | mean \\|P(i)\\| | matched cos | last loss |',
             '|---|---|---|---|---|---|---|---|---|']
    sentences = []
    for method in ordered(pretraining):
        entry = pretraining[method]
        moved = entry.get('teacher_moved')
        moved_text = f"{moved['holds']} of {moved['n']} seeds" if moved else '–'
        lines.append(
            f"| {method_name(method)} | {len(entry['seeds'])} | "
            + ' | '.join(scalar_text(entry, k) for k in PRETRAIN_SCALARS[:3])
            + f" | {moved_text} | {scalar_text(entry, 'mean_positives_per_query')} | "
            f"{scalar_text(entry, 'matched_cos')} | {scalar_text(entry, 'last_loss')} |")
        if moved:
            sentences.append(
                f"- {method_name(method)}: teacher-init >= {TEACHER_MOVED_RATIO:g} x "
                f"student-init {'holds' if moved['holds'] == moved['n'] else 'fails'} "
                f"({moved['holds']} of {moved['n']} seeds).")
        if 'locsce_is_sce' in entry:
            positives = entry['mean_positives_per_query']['mean']
            sentences.append(
                f'- {method_name(method)}: mean |P(i)| = {positives:.3f} at the end of '
                'pretraining, ' + (f'below {SCE_LIKE_POSITIVES:g}: LocSCE reduces to SCE here.'
                                   if entry['locsce_is_sce'] else
                                   f'at least {SCE_LIKE_POSITIVES:g}: LocSCE adds positives '
                                   'beyond the matched proposal.'))
    return lines + ['', *sentences]


def budget_lines(report):
    b = report['budget']
    if not b['parts']:
        return ['No timings files.']
    lines = ['| part | stage family | stages | minutes |', '|---|---|---|---|']
    for part in b['parts']:
        for item in part['items']:
            lines.append(f"| {part['part']} | {item['item']} | {item['stages']} | "
                         f"{item['minutes']:.1f} |")
        lines.append(f"| **{part['part']}** | all | "
                     f"{sum(i['stages'] for i in part['items'])} | **{part['minutes']:.1f}** |")
    sources = ', '.join(f'{n} from {source}' for source, n in sorted(b['sources'].items()))
    left_out = (f" {b['left_out']} timings files of runs outside the study are left out."
                if b['left_out'] else '')
    return [f"Summed from the stages' timings files ({sources}): "
            f"**{b['minutes']:.1f} minutes** in all. Stages that write no timings file "
            f'(splits, fog, the reports) are not counted.{left_out}', '', *lines]


def render_markdown(report):
    """``report.md`` from the report's dict (``report.json``), which holds every number."""
    figures = report['figures']
    curves_run = figures['training_curves_run']
    lines = [
        '# Results', '',
        'Written by `mmproseco/pipeline/report.py` from the metrics files of one `dvc repro`; '
        'every number is in `results/report.json`. Test bbox mAP in % (2 decimals of the '
        "unrounded COCOeval value) as mean ± sample std over seeds; each run's checkpoint is "
        'chosen on val only.', '', *backbone_sentence(report['backbone']),
        '## Fine-tuning with few labels', '', *finetune_table(report), '',
        f"![mAP against labeled fraction]({figures['map_vs_fraction']})", '',
        'Error bars: the 95 % Student-t interval of the mean over seeds.', '',
        '## Paired comparisons', '', *comparison_lines(report),
        '## Convergence', '', *convergence_lines(report), '',
        f"![training curves]({figures['training_curves']})", '',
        f"Curves of seed {curves_run['seed']}: pretraining losses, and the fine-tuning runs at "
        f"{curves_run['fraction']:g} % with the ceiling.", '',
        '## Pretraining dynamics', '', *pretraining_lines(report), '',
        f"![pretraining dynamics]({figures['pretraining_dynamics']})", '',
        '## Time', '', *budget_lines(report), '']
    if report['baselines']:
        lines += ['## Supervised baselines on DeepForest (test tiles)', '',
                  '| detector | config | bbox mAP | AP50 |', '|---|---|---|---|',
                  *(f"| {name} | `{b['config']}` | {pct(b['bbox_mAP'])} | "
                    f"{pct(b['bbox_mAP_50'])} |" for name, b in report['baselines'].items()),
                  '']
    for section in report['included']:
        lines += [f"## {section['title']}", '', *([section['note'], ''] if section['note']
                                                  else []), section['markdown'], '']
    return '\n'.join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--metrics', required=True,
                        help='finetune/, ceiling/, pretrain/, baselines/')
    parser.add_argument('--timings', required=True, help='the timings files of every stage')
    parser.add_argument('--curves', required=True, help='pretrain/, finetune/, ceiling/')
    parser.add_argument('--ranked', required=True, help="the ranked_report stage's table")
    parser.add_argument('--i2i', required=True, help="the i2i_report stage's report.md")
    parser.add_argument('--out', required=True)
    parser.add_argument('--params', default='params.yaml')
    args = parser.parse_args(argv)
    report = build_report(args.metrics, args.timings, args.curves, args.ranked, args.i2i,
                          args.out, read_params(args.params))
    write_json(osp.join(args.out, 'report.json'), report)
    markdown = render_markdown(read_json(osp.join(args.out, 'report.json')))
    with open(osp.join(args.out, 'report.md'), 'w') as f:
        f.write(markdown)
    print(markdown)


if __name__ == '__main__':
    main()
