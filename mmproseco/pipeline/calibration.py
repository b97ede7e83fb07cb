"""Calibrating the study's schedules: how many iterations each kind of training needs.

    python tools/calibrate_schedules.py --kind finetune10 --iters 2400 --val-interval 150

Once, by hand, not a DVC stage (docs/pipeline.md, "Calibrating the schedules"). Each kind
of training of the ProSeCo study runs once for a long ``--iters``, through the functions
the study's stages run (:mod:`.stages`):

- ``backbone``: the ImageSCE backbone (params.yaml ``backbone.config``);
- ``pretrain-<method>``: each pretraining of params.yaml ``pretrain``, on ``--backbone``;
- ``finetune10``: fine-tuning on a 10 % split (:mod:`.splits`) of ``--ann-file``;
- ``ceiling``: the same fine-tuning on all of ``--ann-file``;
- ``ranked-<method>``: each crop-embedding config of params.yaml ``ranked.methods``;
- ``i2i-source-<scenario>``, ``i2i-oracle-<scenario>``: the source detector and the target
  oracle of each I2I scenario of params.yaml ``i2i.scenarios``;
- ``i2i-<adapter>-<scenario>``: each adapter of ``i2i.adapters``, in front of the scenario's
  source detector (the ``i2i_source@<scenario>`` stage's checkpoint).

A fine-tuning kind starts from the seeded random initialization on ``--backbone`` (the
study's ``scratch`` method) and is validated every ``--val-interval`` iterations; its curve
is the val bbox mAP. A ranked kind trains its config as the ``ranked`` stage does (its cosine
schedule then spans the long run), validated every ``--val-interval``; its curve is the val
crop accuracy. The I2I kinds are validated the same way; their curve is the val AP50, the
metric of the I2I report: for an adapter, the frozen detector's on the translated target
val images, not the adversarial losses, which need not flatten. A pretraining has no labels:
its curve is the total loss at each logging point (already mmengine's mean over its window
of iterations).

**The rule.** The curve is smoothed by a trailing mean over ``--window`` points. It goes
from a start to a plateau: for val mAP or crop accuracy from 0 to the best smoothed value;
for a loss, whose floor is unknown, from its first smoothed value to its last. The schedule
length is the first iteration whose smoothed value has covered ``--fraction`` (90 %) of that
way.

For each kind, ``<out>/<kind>.json`` holds the points, the plateau, the length, the rule
and the seconds per iteration the run measured; ``<out>/<kind>.png`` draws them. What the
stages write (checkpoints, curves, mmengine's logs) goes to ``<work-dir>/<kind>/``.
"""
import argparse
import dataclasses
import json
import os.path as osp
import statistics
import time

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402

from mmproseco.datasets.data_errors import DataError  # noqa: E402
from . import stages  # noqa: E402
from .convergence import LAST_VALIDATIONS, plateau_reached  # noqa: E402
from .files import write_json  # noqa: E402
from .params import load_params  # noqa: E402
from .scalars import read_curves, read_scalars, val_history  # noqa: E402
from .splits import split_name, write_splits  # noqa: E402

#: The share of the way from start to plateau that the chosen length must have covered.
FRACTION = 0.9
#: A curve has flattened when its length falls within this share of the run: the rest of
#: the run then shows what comes after it.
FLAT_SHARE = 0.75
#: The val metric of the fine-tuning kinds, and the logged loss of the pretraining kinds.
METRIC = 'coco/bbox_mAP'
LOSS = 'loss'
#: The val metric of the ranked kinds: PrototypeAccuracy's nearest-prototype accuracy.
ACCURACY = 'proto/accuracy'
#: The val metric of the I2I kinds: AP50, what the I2I report compares.
METRIC50 = 'coco/bbox_mAP_50'
#: The trailing window, in points: as many validations as the study's plateau rule
#: averages; for a loss, logging points (each already a mean over mmengine's window).
WINDOWS = {METRIC: LAST_VALIDATIONS, ACCURACY: LAST_VALIDATIONS, METRIC50: LAST_VALIDATIONS,
           LOSS: 5}
#: Where the study's ``backbone@<seed>`` stage writes the backbone (dvc.yaml).
BACKBONE = 'work/backbone/seed{seed}/backbone.pth'
TRAIN_ANN = 'data/shapes/annotations/train.json'
#: The config of a ranked method, as dvc.yaml's ``ranked`` stage names it.
RANKED_CONFIG = 'configs/ranked_contrastive/{method}_r18_1xb16-cpu_shapes.py'
#: The y axis of each signal's plot.
AXIS_LABELS = {METRIC: 'val bbox mAP', ACCURACY: 'val crop accuracy', METRIC50: 'val bbox AP50',
               LOSS: 'training loss'}
RULES = {
    METRIC: 'the first validation whose trailing mean of {window} val bbox mAP is at least '
            '{fraction:.0%} of the best such mean',
    ACCURACY: 'the first validation whose trailing mean of {window} val crop accuracies is at '
              'least {fraction:.0%} of the best such mean',
    METRIC50: 'the first validation whose trailing mean of {window} val AP50 is at least '
              '{fraction:.0%} of the best such mean',
    LOSS: 'the first logging point whose trailing mean of {window} logged losses has made '
          '{fraction:.0%} of the decrease from the first such mean to the last',
}
#: Where the ``i2i_source@<scenario>`` stage writes the source detector (dvc.yaml).
I2I_SOURCE = 'work/i2i/{scenario}/source/final.pth'
#: The calibration runs of the I2I kinds, (iterations, validation interval), per scenario
#: (the generated scenario's for any other), sized from the unit costs of docs/i2i.md to
#: 15-30 minutes each on 2 CPU cores.
I2I_RUNS = dict(detector=(3000, 200), adapter=(1500, 100))
I2I_SCENARIO_RUNS = {'deepforest-fog': dict(detector=(1200, 100), adapter=(600, 50))}


@dataclasses.dataclass(frozen=True)
class Kind:
    """One kind of training of the study, with the long run that calibrates it.

    ``signal``: its curve, the logged LOSS (a pretraining), the val bbox mAP (METRIC, a
    fine-tuning), the val crop accuracy (ACCURACY, a ranked run) or the val AP50 (METRIC50,
    an I2I run); ``percent``: the labeled percentage a fine-tuning kind trains on;
    ``on_backbone``: whether it starts from the ImageSCE backbone; ``iters`` and
    ``val_interval``: the defaults of its calibration run; ``options``: the config options
    its stage sets (an adapter's frozen detector).
    """
    name: str
    config: str
    on_backbone: bool
    iters: int
    signal: str = LOSS
    percent: float = None
    val_interval: int = None
    options: dict = None


def study_kinds(params):
    """{name: :class:`Kind`} of the study of ``params`` (params.yaml). The run lengths are
    sized from the curves measured so far (docs/pipeline.md): fine-tuning at 10 % was still
    rising at 1,000 iterations, the supervised detector on 100 % at 1,600; the ranked runs
    from their unit costs (docs/ranked_contrastive.md)."""
    use_backbone = params['backbone']['use']
    finetune = params['finetune_config']
    return {kind.name: kind for kind in (
        Kind('backbone', params['backbone']['config'], on_backbone=False, iters=2400),
        *(Kind(f'pretrain-{method}', config, on_backbone=use_backbone, iters=2000)
          for method, config in params['pretrain'].items()),
        Kind('finetune10', finetune, on_backbone=use_backbone, iters=2400, signal=METRIC,
             percent=10, val_interval=150),
        Kind('ceiling', finetune, on_backbone=use_backbone, iters=4000, signal=METRIC,
             percent=100, val_interval=250),
        *(Kind(f'ranked-{method}', RANKED_CONFIG.format(method=method), on_backbone=False,
               iters=1200, signal=ACCURACY, val_interval=100)
          for method in params['ranked']['methods']),
        *i2i_kinds(params))}


def i2i_kinds(params):
    """The kinds of the I2I study, per scenario of params.yaml ``i2i.scenarios``: the source
    detector and the target oracle, validated on val AP50, and each adapter of
    ``i2i.adapters``, validated on the AP50 of the frozen source detector behind it on the
    translated target val images."""
    for name, scenario in params['i2i']['scenarios'].items():
        runs = I2I_SCENARIO_RUNS.get(name, I2I_RUNS)
        for role in ('source', 'oracle'):
            iters, interval = runs['detector']
            yield Kind(f'i2i-{role}-{name}', scenario[role], on_backbone=False, iters=iters,
                       val_interval=interval, signal=METRIC50)
        for adapter in params['i2i']['adapters']:
            iters, interval = runs['adapter']
            yield Kind(f'i2i-{adapter}-{name}',
                       f'configs/i2i/{adapter}_tiny_1xb4-cpu_{name}.py', on_backbone=False,
                       iters=iters, val_interval=interval, signal=METRIC50, options={
                           'model.detector_checkpoint': I2I_SOURCE.format(scenario=name)})


# ------------------------------------------------------------------------- the rule
def moving_average(values, window):
    """The trailing mean of the last ``window`` values at each point, over fewer points at
    the start. (N,) -> (N,). It uses nothing after a point, so a length picked on it is
    never earlier than the data up to that length shows."""
    values = np.asarray(values, dtype=float)
    sums = np.concatenate([[0.0], np.cumsum(values)])
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(ends - window, 0)
    return (sums[ends] - sums[starts]) / (ends - starts)


def pick_length(iters, values, signal, window, fraction=FRACTION):
    """The rule on one curve.

    Args:
        iters (Sequence[int]): the iteration of each point, increasing.
        values (Sequence[float]): the val metric (``signal`` = METRIC or ACCURACY, higher
            is better) or the loss (LOSS, lower is better) at each point.

    Returns:
        dict: ``smoothed`` (the trailing means), ``start``, ``plateau``, ``target`` (the
        smoothed value that covers ``fraction`` of the way) and ``length``: the first
        iteration whose smoothed value reaches the target, None when the curve never
        improved (a loss that did not fall, a metric that stayed 0).
    """
    smoothed = moving_average(values, window)
    if signal == LOSS:
        start, plateau, sign = smoothed[0], smoothed[-1], -1.0
    else:
        start, plateau, sign = 0.0, smoothed.max(), 1.0
    gain = sign * (plateau - start)
    length = None
    if gain > 0:
        length = next(int(i) for i, v in zip(iters, smoothed)
                      if sign * (v - start) >= fraction * gain)
    return dict(smoothed=smoothed.tolist(), start=float(start), plateau=float(plateau),
                target=float(start + fraction * (plateau - start)), length=length)


def flattened(length, last_iter, share=FLAT_SHARE):
    """Whether the run went on long enough past ``length`` to show the plateau: the curve
    had covered the rule's share of its way by ``share`` of the run. For a loss, whose
    plateau is its last value, a run too short to flatten puts the length near its end.
    A rule that found no length has not flattened either."""
    return length is not None and length <= share * last_iter


# -------------------------------------------------------------------- the long runs
def stage_files(work_dir):
    """The metrics, curves and timings files a stage writes, in ``work_dir``."""
    return {name: osp.join(work_dir, f'{name}.json') for name in ('metrics', 'curves',
                                                                  'timings')}


def check_proposals_cover_pool(config, cfg_options=None):
    """Refuse to calibrate a pretraining whose proposal file was computed on part of its
    image pool only (``tools/selective_search.py --max-images``, as a benchmark runs it):
    the dataset would silently train on those images alone, and the curve would be an
    overfit of a few dozen images. The proposals' ``meta.json`` counts the images searched;
    the pool is the images of the dataset's ``ann_file``. A config without a proposal file
    passes."""
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(cfg_options or {})
    dataset = cfg.train_dataloader.dataset
    if not dataset.get('proposal_file') or not dataset.get('ann_file'):
        return
    root = dataset.get('data_root') or ''
    meta_file = osp.join(osp.dirname(osp.join(root, dataset.proposal_file)), 'meta.json')
    ann_file = osp.join(root, dataset.ann_file)
    if not (osp.isfile(meta_file) and osp.isfile(ann_file)):
        return  # the dataset itself reports a missing file, with its fix
    with open(meta_file) as f:
        searched = json.load(f)['images']
    with open(ann_file) as f:
        pool = len(json.load(f)['images'])
    if searched < pool:
        raise DataError(meta_file, f'the proposals were computed on {searched} of the {pool} '
                                   f'images of {ann_file}',
                        'compute them on the whole pool: `dvc repro proposals` (or '
                        '`python tools/selective_search.py` without --max-images)')


def run_pretraining(kind, work_dir, iters, seed, backbone, freeze):
    """Train a pretraining kind as its stage does; the (iteration, loss) points."""
    check_proposals_cover_pool(kind.config, kind.options)
    files = stage_files(work_dir)
    stages.pretrain(kind.config, osp.join(work_dir, 'model.pth'), iters, seed,
                    backbone=backbone, freeze=freeze, cfg_options=kind.options, **files)
    points = [(p['iter'], p[LOSS]) for p in read_curves(files['curves']) if LOSS in p]
    return points, {}


def run_finetuning(kind, work_dir, iters, val_interval, seed, backbone, ann_file):
    """Fine-tune the random initialization on the kind's split as the ``finetune`` stage
    does, validated every ``val_interval``; the (iteration, val mAP) points, and the test
    metrics of the checkpoint that was best on val."""
    if iters % val_interval:
        raise ValueError(f'--iters {iters} is not a multiple of --val-interval {val_interval}')
    split = ann_file
    if kind.percent != 100:
        split_dir = osp.join(work_dir, 'splits')
        write_splits(ann_file, split_dir, [kind.percent], [seed])
        split = osp.join(split_dir, split_name(kind.percent, seed))
    init = osp.join(work_dir, 'init', 'detector.pth')
    stages.random_init(kind.config, init, seed, osp.join(work_dir, 'init', 'metrics.json'),
                       osp.join(work_dir, 'init', 'timings.json'), backbone, kind.options)
    files = stage_files(work_dir)
    validations = iters // val_interval
    result = stages.finetune(kind.config, init, split, osp.join(work_dir, 'best.pth'), iters,
                             validations, seed, {}, facts=dict(calibration=kind.name),
                             cfg_options=kind.options, **files)
    points = [(v['iter'], v['bbox_mAP']) for v in result['val_history']]
    if len(points) != validations:
        raise RuntimeError(f'expected {validations} validations in {files["metrics"]}, '
                           f'found {len(points)}')
    test = {k: result[k] for k in ('bbox_mAP', 'bbox_mAP_50')}
    return points, dict(best_val_iter=result['best_val_iter'], test=test, split=split)


def run_ranked(kind, work_dir, iters, val_interval, seed):
    """Train a ranked kind as the ``ranked`` stage does (:func:`.stages.train`, full val and
    test sets), validated every ``val_interval``, and test its final weights; the
    (iteration, val crop accuracy) points and the test metrics."""
    if iters % val_interval:
        raise ValueError(f'--iters {iters} is not a multiple of --val-interval {val_interval}')
    files = stage_files(work_dir)
    stages.train(kind.config, osp.join(work_dir, 'final.pth'), iters, {}, files['curves'],
                 files['timings'], {'randomness.seed': seed,
                                    'train_cfg.val_interval': val_interval,
                                    **(kind.options or {})},
                 full_eval=True, test_metrics_file=files['metrics'])
    points = [(p['iter'], p[ACCURACY]) for p in read_curves(files['curves']) if ACCURACY in p]
    if len(points) != iters // val_interval:
        raise RuntimeError(f'expected {iters // val_interval} validations in '
                           f'{files["curves"]}, found {len(points)}')
    with open(files['metrics']) as f:
        test = {k: v for k, v in json.load(f).items() if k.startswith(('proto/', 'ood/'))}
    return points, dict(test=test)


def run_i2i(kind, work_dir, iters, val_interval, seed):
    """Train an I2I kind as its stage does (its config with the stage's options, constant
    LR or a schedule that does not depend on the run length, so a prefix of the long run is
    a shorter run), validated every ``val_interval``; the (iteration, val AP50) points."""
    if iters % val_interval:
        raise ValueError(f'--iters {iters} is not a multiple of --val-interval {val_interval}')
    options = kind.options or {}
    detector = options.get('model.detector_checkpoint')
    if detector is not None and not osp.isfile(detector):
        raise FileNotFoundError(f'{detector} does not exist: the adapter needs its frozen '
                                'detector; run `dvc repro i2i_source@<scenario>` first')
    files = stage_files(work_dir)
    started = time.time()
    out = osp.join(work_dir, 'final.pth')
    _, seconds = stages.timed_train(kind.config, stages.mmengine_dir(out), {
        'train_cfg.max_iters': iters, 'train_cfg.val_interval': val_interval,
        'randomness.seed': seed, **stages.final_checkpoint_only(iters), **options})
    stages.write_timings(files['timings'], started, train_seconds=seconds)
    history = val_history(stages.write_curves(osp.join(work_dir, 'mmengine'), files['curves']),
                          METRIC50)
    return [(v['iter'], v['bbox_mAP']) for v in history], {}


def measured_seconds(work_dir, val_key=None):
    """The seconds the run measured: the median time of a training iteration and of a
    validation iteration (IterTimerHook's, as mmengine logged them: a training record
    holds the mean over the log window; a validation record, the one with the val metric
    ``val_key`` (None: the run validated nothing), over that validation), and
    the wall time of the whole training (the stage's timings: building the runner,
    validations and checkpoints included)."""
    # stages.mmengine_dir: mmengine's work dir is the 'mmengine' folder of the stage's.
    records = read_scalars(osp.join(work_dir, 'mmengine'))
    train = [r['time'] for r in records if 'iter' in r and 'time' in r]
    val = [r['time'] for r in records if val_key is not None and val_key in r and 'time' in r]
    with open(stage_files(work_dir)['timings']) as f:
        train_seconds = json.load(f)['train_seconds']
    return dict(seconds_per_iter=statistics.median(train) if train else None,
                seconds_per_val_iter=statistics.median(val) if val else None,
                train_seconds=train_seconds)


def calibrate(kind, out, work_dir, iters=None, val_interval=None, window=None,
              fraction=FRACTION, seed=0, backbone=None, freeze=False, ann_file=TRAIN_ANN):
    """Run ``kind`` for ``iters`` iterations (its default if None) in
    ``<work_dir>/<kind>``, apply the rule and write ``<out>/<kind>.json`` and ``.png``;
    returns what the JSON holds. ``backbone``: the checkpoint a kind that starts from the
    ImageSCE backbone starts from (None: a random one); ``freeze``: whether a pretraining
    freezes it."""
    iters = iters or kind.iters
    window = window or WINDOWS[kind.signal]
    backbone = backbone if kind.on_backbone else None
    run_dir = osp.join(work_dir, kind.name)
    if kind.signal == LOSS:
        points, facts = run_pretraining(kind, run_dir, iters, seed, backbone,
                                        freeze and backbone is not None)
    else:
        val_interval = val_interval or kind.val_interval
        if kind.signal == ACCURACY:
            points, facts = run_ranked(kind, run_dir, iters, val_interval, seed)
        elif kind.signal == METRIC50:
            points, facts = run_i2i(kind, run_dir, iters, val_interval, seed)
        else:
            points, facts = run_finetuning(kind, run_dir, iters, val_interval, seed, backbone,
                                           ann_file)
        facts.update(val_interval=val_interval,
                     plateau_rule_met=plateau_reached([v for _, v in points]))
    val_key = None if kind.signal == LOSS else kind.signal
    its, values = zip(*points)
    pick = pick_length(its, values, kind.signal, window, fraction)
    smoothed = pick.pop('smoothed')
    result = dict(
        kind=kind.name, config=kind.config, cfg_options=kind.options, signal=kind.signal,
        iters=iters, seed=seed,
        backbone=backbone, **facts, **measured_seconds(run_dir, val_key),
        rule=dict(text=RULES[kind.signal].format(window=window, fraction=fraction),
                  window=window, fraction=fraction, flat_share=FLAT_SHARE),
        points=[dict(iter=i, value=v, smoothed=s)
                for i, v, s in zip(its, values, smoothed)],
        **pick, flattened=flattened(pick['length'], its[-1]))
    write_json(osp.join(out, f'{kind.name}.json'), result)
    plot_calibration(result, osp.join(out, f'{kind.name}.png'))
    return result


def plot_calibration(result, path):
    """The curve, its trailing mean, the target and the chosen length."""
    its = [p['iter'] for p in result['points']]
    rule = result['rule']
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(its, [p['value'] for p in result['points']], marker='.', alpha=0.4,
            label='measured')
    ax.plot(its, [p['smoothed'] for p in result['points']],
            label=f"trailing mean of {rule['window']}")
    which = 'last' if result['signal'] == LOSS else 'best'
    ax.axhline(result['plateau'], color='gray', linewidth=0.8,
               label=f'plateau: the {which} trailing mean')
    ax.axhline(result['target'], color='gray', linestyle=':',
               label=f"{rule['fraction']:.0%} of the way to it")
    if result['length'] is not None:
        ax.axvline(result['length'], color='C3', linestyle='--',
                   label=f"length: {result['length']} iterations")
    flat = '' if result['flattened'] else ' (not flattened: run longer)'
    ax.set_title(f"{result['kind']}{flat}", fontsize=9)
    ax.set_xlabel('iteration')
    ax.set_ylabel(AXIS_LABELS[result['signal']])
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def parse_args(argv, kinds, params):
    parser = argparse.ArgumentParser(
        prog='python tools/calibrate_schedules.py', description=__doc__.split('\n')[0],
        epilog='Defaults per kind: ' + '; '.join(
            f'{k.name}: --iters {k.iters}' + (f' --val-interval {k.val_interval}'
                                              if k.val_interval else '')
            for k in kinds.values()) + '. docs/pipeline.md says in which order to run them.')
    parser.add_argument('--kind', nargs='+', required=True, choices=list(kinds),
                        metavar='KIND', help='the kinds of training to calibrate, one after '
                        f"the other: {', '.join(kinds)}")
    parser.add_argument('--iters', type=int, help="the long run's length (default: per kind)")
    parser.add_argument('--val-interval', type=int,
                        help='validate every N iterations (fine-tuning and ranked kinds; '
                        'default: per kind)')
    parser.add_argument('--window', type=int,
                        help='points in the trailing mean (default: '
                        f'{WINDOWS[METRIC]} validations, {WINDOWS[LOSS]} logging points)')
    parser.add_argument('--fraction', type=float, default=FRACTION,
                        help='share of the way from start to plateau the length must cover')
    seed = params['study']['seeds'][0]
    parser.add_argument('--seed', type=int, default=seed,
                        help="seed of the run and of the split (default: the study's first)")
    parser.add_argument('--backbone', default=BACKBONE.format(seed=seed)
                        if params['backbone']['use'] else 'none',
                        help="the ImageSCE backbone the other kinds start from: the study's "
                        f"(`dvc repro backbone@{seed}`), or 'none' for a random one")
    parser.add_argument('--ann-file', default=TRAIN_ANN,
                        help='the labeled train set the fine-tuning kinds split')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        metavar='KEY=VALUE',
                        help="change every kind's config, as mmengine's --cfg-options do, to "
                        'calibrate a variant of a recipe (e.g. optim_wrapper.optimizer.lr=4e-4); '
                        "an I2I adapter kind keeps its stage's own options beside them")
    parser.add_argument('--out', default='results/calibration',
                        help='where the JSON and PNG of each kind go')
    parser.add_argument('--work-dir', default='work/calibration',
                        help="where each kind's run writes its checkpoints and logs")
    return parser.parse_args(argv)


def main(argv=None, params_file='params.yaml'):
    params = load_params(params_file)
    kinds = study_kinds(params)
    args = parse_args(argv, kinds, params)
    backbone = None if args.backbone == 'none' else args.backbone
    needs_backbone = any(kinds[name].on_backbone for name in args.kind)
    if needs_backbone and backbone is not None and not osp.isfile(backbone):
        raise FileNotFoundError(f'--backbone {backbone} does not exist: run `dvc repro '
                                "backbone@<seed>` first, or give --backbone none for a random one")
    for name in args.kind:
        kind = kinds[name]
        if args.cfg_options:
            kind = dataclasses.replace(kind, options={**(kind.options or {}),
                                                      **args.cfg_options})
        result = calibrate(kind, args.out, args.work_dir, args.iters, args.val_interval,
                           args.window, args.fraction, args.seed, backbone,
                           params['backbone']['frozen'], args.ann_file)
        flat = '' if result['flattened'] else ' (not flattened: rerun with a larger --iters)'
        print(f"{name}: length {result['length']} of {result['iters']} iterations{flat}, "
              f"{result['seconds_per_iter']} s per iteration -> {args.out}/{name}.json")
