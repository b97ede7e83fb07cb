"""The training and evaluation stages of dvc.yaml: each runs mmproseco's own train/test
runners (the code ``mim train``/``mim test`` run) with the sizes of the active profile of
params.yaml. Every path a stage reads or writes is an argument, given by dvc.yaml.

A stage keeps only what depends on its inputs: the weights (:mod:`.checkpoints`), its
metrics and its curves (:mod:`.scalars`). mmengine's work dir (logs, ``scalars.json``,
``last_checkpoint``, the full checkpoints) is the ``mmengine`` folder next to the kept
checkpoint, outside the stage's outputs; the seconds a stage took, and when it started and
ended (UNIX time), go to its timings file.

``python -m mmproseco.pipeline profile smoke`` makes every stage a few iterations and the
study one seed, to check the graph end to end (:mod:`.params`).
"""
import argparse
import glob
import os
import os.path as osp
import shutil
import time

from mmengine.config import Config, DictAction
from mmengine.fileio import load

from mmproseco.engine.hooks import TeacherEMAHook, momentum_distances
from mmproseco.engine.schedulers import relative_milestone
from mmproseco.tools import test as test_tool
from mmproseco.tools import train as train_tool
from .checkpoints import export_detector, export_state_dict, keep_checkpoint, save_weights
from .coco_scores import bbox_map
from .convergence import plateau_reached
from .files import write_json
from .i2i_report import ADAPTER_ROWS, ap50_scores
from .params import load_params
from .scalars import last_losses, val_history, write_curves
from .selective_search import SearchSettings, default_cache_dir, list_images, run_selective_search


def mmengine_dir(out):
    """mmengine's work dir of the stage whose kept checkpoint is ``out``: beside it, so
    that the timestamped logs stay out of the stage's outputs. Emptied before each run."""
    work_dir = osp.join(osp.dirname(out), 'mmengine')
    shutil.rmtree(work_dir, ignore_errors=True)
    return work_dir


def eval_subset(size, loaders=('val', 'test')):
    """Options that cut val/test to the profile's ``eval_images`` (0 or absent: all)."""
    count = size.get('eval_images', 0)
    return {f'{name}_dataloader.dataset.indices': count for name in loaders} if count else {}


def pretrain_export(config):
    """The config's ``pretrain_export``: what the pipeline needs to know of the model.

    ``source``: the submodule that is the detector (``student`` for a teacher-student
    model, '' for the whole model); ``backbone``: where the backbone sits in the config
    (``model.backbone``); ``freeze``: the options that freeze that backbone.
    """
    spec = Config.fromfile(config).get('pretrain_export')
    if spec is None:
        raise ValueError(f'{config} has no pretrain_export; add pretrain_export = dict('
                         "source='', backbone='model.backbone', freeze={...}) "
                         '(docs/pipeline.md)')
    return spec


def backbone_options(spec, checkpoint=None, freeze=False):
    """Options that start the config's backbone from ``checkpoint`` (the ``backbone``
    stage's weights) and freeze it if ``freeze``. ``_delete_`` because the configs'
    ``init_cfg`` is None, which a dict cannot merge into."""
    options = {} if checkpoint is None else {
        f"{spec['backbone']}.init_cfg":
        dict(_delete_=True, type='Pretrained', checkpoint=str(checkpoint))}
    if freeze:
        options.update(spec['freeze'])
    return options


def final_checkpoint_only(iters):
    """Checkpoint options of a stage that reads only the weights after ``iters``
    iterations: one checkpoint, at the end, without the optimizer state (no stage resumes)."""
    return {'default_hooks.checkpoint.interval': iters,
            'default_hooks.checkpoint.save_optimizer': False}


def timed_train(config, work_dir, cfg_options):
    """Build the runner, train it; returns the runner and the seconds it took.

    Validations are logged at their iteration (``log_metric_by_epoch=False``; mmengine's
    default logs them at epoch 0 in an iteration-based run), which the curves and
    ``val_history`` read."""
    start = time.time()
    runner = train_tool.build_runner(config, work_dir=work_dir, cfg_options={
        'default_hooks.logger.log_metric_by_epoch': False, **cfg_options})
    runner.train()
    return runner, round(time.time() - start, 1)


def final_means(runner, names):
    """The mean of each scalar of ``names`` that the model logged, over the last logging
    interval of the run (the window the logger smooths losses over), read from the message
    hub: a run shorter than one interval has it too."""
    window = runner.cfg.default_hooks.logger.interval
    scalars = runner.message_hub.log_scalars
    return {name: float(scalars[f'train/{name}'].mean(window)) for name in names
            if f'train/{name}' in scalars}


def write_timings(path, started, **seconds):
    """The timings file of a stage that started at ``started`` (``time.time()``) and ends
    now: ``started`` and ``ended`` (UNIX time) and the ``seconds`` it names."""
    write_json(path, dict(started=started, ended=time.time(), **seconds))


def pretrain(config, out, iters, seed, metrics, curves, timings, backbone=None, freeze=False,
             cfg_options=None):
    """Pretrain ``config`` for ``iters`` iterations and export the detector it trained to
    ``out`` (the config's ``pretrain_export.source``), its backbone started from the
    ``backbone`` stage's weights if given, and frozen if ``freeze``. The metrics hold the
    last logged losses and, for a teacher-student model, the final teacher-student,
    teacher-init and student-init parameter distances; for LocSCE, the mean number of
    positives per query |P(i)| and the matched-pair cosine over the last logging interval.
    Returns the metrics and the training seconds."""
    started = time.time()
    spec = pretrain_export(config)
    work_dir = mmengine_dir(out)
    runner, seconds = timed_train(config, work_dir, {
        'train_cfg.max_iters': iters, **final_checkpoint_only(iters),
        'randomness.seed': seed, **backbone_options(spec, backbone, freeze),
        **(cfg_options or {})})
    ckpt = osp.join(work_dir, f'iter_{iters}.pth')
    export_detector(ckpt, out, spec['source'])
    os.remove(ckpt)  # it holds the teacher and heads too, which nothing in the graph reads
    points = write_curves(work_dir, curves)
    result = dict(config=config, iters=iters, seed=seed, last_losses=last_losses(points),
                  **({'cfg_options': cfg_options} if cfg_options else {}))
    if any(isinstance(hook, TeacherEMAHook) for hook in runner.hooks):
        result.update(momentum_distances(runner))  # how far the teacher moved, and from where
    locsce = final_means(runner, ('positives_per_query', 'matched_cos'))
    if locsce:
        result.update(mean_positives_per_query=locsce['positives_per_query'],
                      matched_cos=locsce['matched_cos'])
    write_json(metrics, result)
    write_timings(timings, started, train_seconds=seconds)
    return dict(result, train_seconds=seconds)


def random_init(config, out, seed, metrics, timings, backbone=None, cfg_options=None):
    """The 'scratch' baseline: the detector's seeded random initialization (on the
    ``backbone`` stage's weights, if given), saved so that it enters fine-tuning through
    the same ``load_from`` path as the pretrained ones. ``cfg_options`` change the config
    (e.g. the model) as ``--cfg-options`` does."""
    started = time.time()
    from mmdet.registry import MODELS
    from mmengine.registry import init_default_scope
    from mmengine.runner import set_random_seed

    from mmproseco.tools.cli import load_config

    spec = pretrain_export(config)
    cfg = load_config(config, {**backbone_options(spec, backbone), **(cfg_options or {})})
    init_default_scope(cfg.default_scope)
    set_random_seed(seed)
    model = MODELS.build(cfg.model)
    model.init_weights()
    save_weights(out, export_state_dict(model.state_dict(), spec['source'])[0])
    write_json(metrics, dict(config=config, iters=0, seed=seed, last_losses={}))
    write_timings(timings, started)


def test_metrics(runner):
    """Test the runner's current weights; the metrics as plain floats."""
    return {k: float(v) for k, v in test_tool.run_test(runner).items()}


def validation_options(config, iters, validations):
    """The ``train_cfg`` options that validate a run of ``iters`` iterations.

    ``validations`` is either a count, validated at equal intervals, or
    ``{before_drop: k, after_drop: n}``: k equal intervals up to the iteration where
    ``config`` drops its learning rate (its top-level ``lr_drop_at``, a share of the run,
    placed as :class:`~mmproseco.engine.schedulers.RelativeMultiStepLR` places it), then n
    equal intervals from there to the end, through mmengine's ``dynamic_intervals``. The
    best checkpoint on val and the last validations of the plateau rule then fall on the
    annealed part of the run, where the curve flattens, rather than on its rise.
    """
    if isinstance(validations, int):
        if iters % validations:
            raise ValueError(f'{iters} fine-tuning iterations do not split into {validations} '
                             'equal intervals; make the profile\'s iterations a multiple of '
                             'its validations in params.yaml')
        return {'train_cfg.val_interval': iters // validations}
    share = Config.fromfile(config).get('lr_drop_at')
    if share is None:
        raise ValueError(f'validations {validations} count from the LR drop, but {config} sets '
                         'no lr_drop_at; give params.yaml one number of validations instead')
    drop = relative_milestone(share, iters)
    before, after = validations['before_drop'], validations['after_drop']
    interval = (iters - drop) // after if (iters - drop) % after == 0 else 0
    # mmengine validates where the iteration is a multiple of the interval, so the one
    # after the drop must divide the drop too
    if drop % before or not interval or drop % interval:
        raise ValueError(f'{iters} fine-tuning iterations, dropping the LR at {drop}, do not '
                         f'split into {before} equal intervals before the drop and {after} '
                         'after it; change the iterations or the validations in params.yaml')
    # mmengine's loop takes an interval from the iteration after its milestone on
    return {'train_cfg.val_interval': drop // before,
            'train_cfg.dynamic_intervals': [(drop + 1, interval)]}


def finetune(config, init, split, out, iters, validations, seed, size, metrics, curves,
             timings, facts=None, cfg_options=None):
    """Fine-tune ``init`` on the labeled ``split``, validating as ``validations`` says
    (:func:`validation_options`); keep the best checkpoint on val as ``out``, then test it.
    ``facts`` (method, fraction, ...) go into the metrics; ``cfg_options`` change the config
    as ``--cfg-options`` does (the calibration's probes of a recipe).

    Model selection uses val only; the test set is read once, by the kept checkpoint. One
    runner does both, so the log of the test follows the training log. The metrics hold the
    test's ``bbox_mAP`` and ``bbox_mAP_50`` unrounded from COCOeval (the test predictions
    scored by :func:`.coco_scores.bbox_map`) besides mmdet's rounded ``coco/*``, the
    ``val_history``, ``best_val_iter``, ``last_val_iter`` and whether the run ``converged``
    by the plateau rule (:mod:`.convergence`; the seed spread is unknown to one run, so 0:
    the report re-checks it with its cell's).
    """
    started = time.time()
    schedule = validation_options(config, iters, validations)
    work_dir = mmengine_dir(out)
    runner, seconds = timed_train(config, work_dir, {
        'load_from': init, 'randomness.seed': seed, 'train_dataloader.dataset.ann_file': split,
        'train_cfg.max_iters': iters, **schedule,
        # only the best checkpoint on val, which save_best writes (no iteration checkpoints)
        'default_hooks.checkpoint.interval': -1, 'default_hooks.checkpoint.save_last': False,
        **eval_subset(size), **(cfg_options or {})})
    best = glob.glob(osp.join(work_dir, 'best_coco_bbox_mAP_iter_*.pth'))
    if len(best) != 1:
        raise RuntimeError(f'expected one best checkpoint in {work_dir}, found {best}')
    best_iter = int(best[0].rsplit('_', 1)[1][:-4])
    keep_checkpoint(best[0], out)
    runner.load_checkpoint(out)  # the kept weights, which load with weights_only=True
    history = val_history(write_curves(work_dir, curves))
    predictions = osp.join(work_dir, 'test_predictions.pkl')
    test_tool.dump_predictions(runner, predictions)
    rounded = test_metrics(runner)
    result = dict(
        **(facts or {}), seed=seed, iters=iters, **rounded,
        **bbox_map(runner.cfg.test_evaluator.ann_file, load(predictions)),
        val_history=history, best_val_iter=best_iter, last_val_iter=history[-1]['iter'],
        converged=plateau_reached([v['bbox_mAP'] for v in history]))
    write_json(metrics, result)
    write_timings(timings, started, train_seconds=seconds)
    return result


def train(config, out, iters, size, curves, timings, cfg_options=None, full_eval=False,
          test_metrics_file=None):
    """Train ``config`` for ``iters`` iterations (None keeps the config's own schedule);
    the last checkpoint becomes ``out``. With ``test_metrics_file``, the same runner then
    tests the final weights and writes the metrics there."""
    work_dir = mmengine_dir(out)
    options = {} if iters is None else {
        'train_cfg.max_iters': iters, 'train_cfg.val_interval': iters,
        **final_checkpoint_only(iters)}
    if not full_eval:
        options.update(eval_subset(size))
    started = time.time()
    runner, seconds = timed_train(config, work_dir, {**options, **(cfg_options or {})})
    keep_checkpoint(osp.join(work_dir, f'iter_{runner.cfg.train_cfg.max_iters}.pth'), out)
    write_curves(work_dir, curves)
    if test_metrics_file is not None:
        write_json(test_metrics_file, dict(config=config, **test_metrics(runner)))
    write_timings(timings, started, train_seconds=seconds)


def proposals(ann, img_dir, out, max_images, metrics, timings):
    """Selective Search boxes of the unlabeled pool (the profile may take only a part).
    The metrics count images and boxes; the timings hold the wall time and how many
    images came from the cache, which depend on the machine and the cache, not the data."""
    started = time.time()
    names = list_images(ann, img_dir)
    names = names[:max_images] if max_images > 0 else names
    summary = run_selective_search(names, img_dir, out, default_cache_dir(out),
                                   SearchSettings(), os.cpu_count(), progress=False)
    write_json(metrics, {k: summary[k] for k in ('images', 'with_proposals', 'skipped_count',
                                                 'boxes', 'boxes_per_image')})
    write_timings(timings, started, wall_seconds=round(time.time() - started, 1),
                  workers=os.cpu_count(), computed=summary['computed'], reused=summary['reused'])


#: The options that leave a run without its validation loop: the I2I runs keep their last
#: weights, and their schedules come from the calibration, which validates (a validation
#: of the 200 shapes val images costs an adapter run about 20 s).
NO_VALIDATION = {'val_dataloader': None, 'val_cfg': None, 'val_evaluator': None}


def scored_test(runner, dump):
    """Test the runner's weights, dumping the predictions to ``dump``; their AP50 per class
    and mAP50, unrounded (:func:`.i2i_report.ap50_scores`)."""
    test_tool.dump_predictions(runner, dump)
    test_tool.run_test(runner)
    return ap50_scores(runner.cfg.test_evaluator.ann_file, load(dump))


def i2i_train(config, out, iters, size, curves, timings, tests, cfg_options=None):
    """Train one run of an I2I scenario for ``iters`` iterations, keep its last checkpoint as
    ``out``, then score the kept weights once per entry of ``tests``: ``(metrics file, test
    config, facts)``, the test config None for the trained config's own test set, or another
    config whose test set the same weights are tested on (the source detector on the target
    images). Each metrics file gets the facts and :func:`scored_test`'s scores."""
    started = time.time()
    work_dir = mmengine_dir(out)
    runner, seconds = timed_train(config, work_dir, {
        'train_cfg.max_iters': iters, **final_checkpoint_only(iters), **NO_VALIDATION,
        **eval_subset(size, ('test', )), **(cfg_options or {})})
    keep_checkpoint(osp.join(work_dir, f'iter_{iters}.pth'), out)
    write_curves(work_dir, curves)
    for metrics, test_config, facts in tests:
        tester = runner if test_config is None else test_tool.build_runner(
            test_config, out, work_dir=work_dir, cfg_options=eval_subset(size, ('test', )))
        dump = osp.join(work_dir, osp.basename(metrics)[:-len('.json')] + '.pkl')
        write_json(metrics, dict(facts, config=test_config or config, iters=iters,
                                 **scored_test(tester, dump)))
    write_timings(timings, started, train_seconds=seconds)


def i2i_detector(scenario, role, out, size, curves, timings, metrics, ceiling_metrics=None):
    """The source detector (``role='source'``: trained on the clear images, tested on the
    target test images as the ``Source`` row and on their clear versions as the ``Clear
    ceiling``) or the target oracle (``'oracle'``: trained and tested on the target domain)
    of ``scenario`` (params.yaml ``i2i.scenarios``)."""
    target_config = scenario['oracle']
    facts = dict(scenario=scenario['name'])
    if role == 'source':
        tests = [(metrics, target_config, dict(facts, row='Source')),
                 (ceiling_metrics, None, dict(facts, row='Clear ceiling'))]
    else:
        tests = [(metrics, None, dict(facts, row='Target oracle'))]
    i2i_train(scenario[role], out, size['i2i'][scenario['name']][f'{role}_iters'], size,
              curves, timings, tests)


def i2i_adapter(config, scenario, adapter, seed, detector, out, size, curves, timings,
                metrics):
    """One adapter run of ``scenario`` in front of the frozen ``detector`` checkpoint, trained
    with ``seed`` (its initialisation, crops, views and pairs), then scored on the target
    test images translated."""
    options = {'model.detector_checkpoint': detector, 'randomness.seed': seed,
               'train_dataloader.dataset.seed': seed}
    facts = dict(scenario=scenario, row=ADAPTER_ROWS[adapter], adapter=adapter, seed=seed)
    i2i_train(config, out, size['i2i'][scenario]['adapter_iters'], size, curves, timings,
              [(metrics, None, facts)], options)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog='python -m mmproseco.pipeline', description=__doc__.split('\n')[0],
        epilog='The stages splits, fog, ranked-report and report are the command lines of '
        'their modules (python -m mmproseco.pipeline STAGE --help).')
    sub = parser.add_subparsers(dest='stage', required=True)

    def stage(name, help, outputs=('out', 'curves', 'timings')):
        p = sub.add_parser(name, help=help)
        for output in outputs:
            p.add_argument(f'--{output}', required=True)
        return p

    p = stage('proposals', 'Selective Search boxes', ('out', 'metrics', 'timings'))
    p.add_argument('--ann', required=True)
    p.add_argument('--img-dir', required=True)
    p = stage('pretrain', 'pretrain a config and export its detector')
    p.add_argument('config', nargs='?', help='the config (or --method)')
    p.add_argument('--method', help='the config of this params.yaml pretrain key')
    p.add_argument('--size', required=True, help='the profile key holding the iterations')
    p.add_argument('--seed', type=int, required=True)
    p.add_argument('--metrics', required=True)
    p.add_argument('--backbone', help="start from this backbone (a 'backbone' stage's)")
    p.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    p = stage('random-init', 'the seeded random initialization', ('out', 'metrics', 'timings'))
    p.add_argument('config')
    p.add_argument('--seed', type=int, required=True)
    p.add_argument('--backbone', help="start from this backbone (a 'backbone' stage's)")
    p = stage('finetune', 'fine-tune on a split, keep the best on val, test it')
    p.add_argument('config')
    p.add_argument('--init', required=True, help='the checkpoint to start from')
    p.add_argument('--split', required=True, help='the labeled split (a COCO json)')
    p.add_argument('--method', required=True)
    p.add_argument('--fraction', type=float, required=True)
    p.add_argument('--delta', type=float, help="the pretraining's LocSCE delta, if ablated")
    p.add_argument('--seed', type=int, required=True)
    p.add_argument('--metrics', required=True)
    p = stage('ceiling', 'fine-tune on all of train (ceiling_iters), keep the best on val, '
              'test it')
    p.add_argument('config')
    p.add_argument('--init', required=True, help='the checkpoint to start from')
    p.add_argument('--train', required=True, help='the whole train set (a COCO json)')
    p.add_argument('--seed', type=int, required=True)
    p.add_argument('--metrics', required=True)
    p = stage('train', 'any config, sized by the profile')
    p.add_argument('config')
    p.add_argument('--size', required=True,
                   help='the profile key holding the iterations (its value None: the '
                   "config's own schedule)")
    p.add_argument('--test-metrics', metavar='JSON',
                   help='then test the final weights and write the metrics here')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    p.add_argument('--full-eval', action='store_true',
                   help="never cut val/test to the profile's eval_images")
    p = stage('i2i-detector', "an I2I scenario's source detector or target oracle, "
              'trained, then tested', ('out', 'curves', 'timings', 'metrics'))
    p.add_argument('--scenario', required=True, help='a key of params.yaml i2i.scenarios')
    p.add_argument('--role', required=True, choices=('source', 'oracle'))
    p.add_argument('--ceiling-metrics', help="the source's test on the clear images")
    p = stage('i2i-adapter', 'one seed of an I2I adapter, trained, then tested',
              ('out', 'curves', 'timings', 'metrics'))
    p.add_argument('config')
    p.add_argument('--scenario', required=True, help='a key of params.yaml i2i.scenarios')
    p.add_argument('--adapter', required=True, choices=sorted(ADAPTER_ROWS))
    p.add_argument('--seed', type=int, required=True)
    p.add_argument('--detector', required=True, help="the scenario's source detector")
    return parser.parse_args(argv)


def main(argv=None, params_file='params.yaml'):
    args = parse_args(argv)
    params = load_params(params_file)
    size = params['size']
    backbone = params['backbone']
    if args.stage == 'proposals':
        proposals(args.ann, args.img_dir, args.out, size['proposal_images'], args.metrics,
                  args.timings)
    elif args.stage == 'pretrain':
        if (args.config is None) == (args.method is None):
            raise ValueError('pretrain takes a config or --method (a key of params.yaml '
                             'pretrain), not both')
        pretrain(args.config or params['pretrain'][args.method], args.out, size[args.size],
                 args.seed, args.metrics, args.curves, args.timings,
                 args.backbone if backbone['use'] else None,
                 freeze=bool(args.backbone) and backbone['use'] and backbone['frozen'],
                 cfg_options=args.cfg_options)
    elif args.stage == 'random-init':
        random_init(args.config, args.out, args.seed, args.metrics, args.timings,
                    args.backbone if backbone['use'] else None)
    elif args.stage == 'finetune':
        facts = dict(method=args.method, fraction=args.fraction)
        if args.delta is not None:
            facts['delta'] = args.delta
        finetune(args.config, args.init, args.split, args.out,
                 size['finetune_iters'][args.fraction], size['validations'], args.seed, size,
                 args.metrics, args.curves, args.timings, facts=facts)
    elif args.stage == 'ceiling':
        finetune(args.config, args.init, args.train, args.out, size['ceiling_iters'],
                 size['validations'], args.seed, size, args.metrics, args.curves,
                 args.timings, facts=dict(method='ceiling', fraction=100.0))
    elif args.stage == 'train':
        train(args.config, args.out, size[args.size], size, args.curves, args.timings,
              args.cfg_options, args.full_eval, args.test_metrics)
    elif args.stage == 'i2i-detector':
        if args.role == 'source' and args.ceiling_metrics is None:
            raise ValueError('the source detector needs --ceiling-metrics (its test on the '
                             'clear images)')
        scenario = dict(params['i2i']['scenarios'][args.scenario], name=args.scenario)
        i2i_detector(scenario, args.role, args.out, size, args.curves, args.timings,
                     args.metrics, args.ceiling_metrics)
    else:
        i2i_adapter(args.config, args.scenario, args.adapter, args.seed, args.detector,
                    args.out, size, args.curves, args.timings, args.metrics)
