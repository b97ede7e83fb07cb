"""Training-step and process benchmark of a checkout, or of several checkouts in one run.

    python benchmarks/bench_train_step.py [--repo PATH ...] [--case NAME ...] [--iters N]
        [--lock /tmp/torch.lock] [--out results.json]

For every ``--repo`` (default: this checkout) and every case (a config plus optional
``--cfg-options``), it measures, each in a fresh process that runs the repo's own code
(cwd and PYTHONPATH = the repo):

* ``step``: the Runner's training step (wall time between two ``after_train_iter`` calls,
  data loading and hooks included) against a bare PyTorch loop over the same model,
  optimizer and dataloader (draw a batch, preprocess, forward, backward, clip, step), and
  the profiler's top operators (self CPU) over a few bare steps;
* ``process``: the fixed cost of ``tools/train.py`` with a small ``max_iters``, split at the
  hook events of a probe module the run imports through ``custom_imports``.

The parent process imports no torch, and runs each child under ``flock --lock`` when given,
so that no other torch process shares the CPU during a measurement while the whole
comparison (old and new tree, same seed, hence the same batches) still runs in one go.
Writes JSON to ``--out`` and a markdown table next to it (``.md``).
"""
import argparse
import itertools
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import tempfile
import time

FINETUNE = 'configs/finetune/deformable-detr_r18-tiny_1xb8-cpu_shapes-finetune.py'
# The fine-tuning config gets its split from the pipeline: here the full train split.
FULL_TRAIN = ['train_dataloader.dataset.ann_file=data/shapes/annotations/train.json']
PROSECO = 'configs/proseco/proseco_deformable-detr_r18-tiny_1xb8-cpu_shapes.py'


def dropout(model_key, p):
    """cfg-options that set the five dropouts of a Deformable DETR at ``model_key`` to p."""
    return [f'{model_key}.{layers}.layer_cfg.{key}={p}' for layers, key in [
        ('encoder', 'self_attn_cfg.dropout'), ('encoder', 'ffn_cfg.ffn_drop'),
        ('decoder', 'self_attn_cfg.dropout'), ('decoder', 'cross_attn_cfg.dropout'),
        ('decoder', 'ffn_cfg.ffn_drop')]]


# The speed defaults of the CPU-size configs since c7fa5d8, each as the options that switch
# it on: no dropout, fused AdamW with a foreach gradient clip (one kernel over all tensors
# instead of one chain per parameter), channels-last convolutions. torch.compile (mmengine's
# `compile=True`) is measured as a process only: its cost is the compilation.
FUSED = ['optim_wrapper.optimizer.fused=True', 'optim_wrapper.clip_grad.foreach=True']
CHANNELS_LAST = ['default_hooks.memory_format.type=MemoryFormatHook']
COMPILE = ['compile=True']
# The settings of c7fa5d8, so that either tree runs the configs as they were there.
C7FA5D8 = {
    'model': dropout('model', 0.1), 'model.detector': dropout('model.detector', 0.1),
    'common': ['optim_wrapper.optimizer.fused=False', 'optim_wrapper.clip_grad.foreach=False']}
EVAL_C7FA5D8 = [f'{loader}_dataloader.{key}' for loader in ('val', 'test')
                for key in ('batch_size=1', 'num_workers=2')]
OLD_FINETUNE = FULL_TRAIN + C7FA5D8['model'] + C7FA5D8['common'] + EVAL_C7FA5D8
OLD_PROSECO = C7FA5D8['model.detector'] + C7FA5D8['common']
LOAD_IN_MAIN = ['train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False']
# name: (config, cfg-options). Both trees are timed on the same fixed pairs (issue 13): the
# config with the tree's defaults, the config as at c7fa5d8, and c7fa5d8's with one option on.
CASES = {
    'finetune': (FINETUNE, FULL_TRAIN),
    'finetune-c7fa5d8': (FINETUNE, OLD_FINETUNE),
    'finetune-c7fa5d8+dropout0': (FINETUNE, OLD_FINETUNE + dropout('model', 0.0)),
    'finetune-c7fa5d8+fused': (FINETUNE, OLD_FINETUNE + FUSED),
    'finetune-c7fa5d8+channels-last': (FINETUNE, OLD_FINETUNE + CHANNELS_LAST),
    'finetune-compile': (FINETUNE, FULL_TRAIN + COMPILE),
    'proseco': (PROSECO, []),
    'proseco-c7fa5d8': (PROSECO, OLD_PROSECO),
    # Loading in the main process: the two workers of shapes_unlabeled.py wait for the
    # cores the model's threads hold once their prefetched batches run out (a run of tens of
    # steps, not the first few).
    'proseco-workers0': (PROSECO, LOAD_IN_MAIN),
}
PROBE = '''\
"""Imported before tools/train.py runs: records when the run reaches each hook event."""
import atexit, json, os, time
from mmengine.hooks import Hook
from mmengine.runner import Runner

EVENTS = {'mmengine_imported': time.time()}
atexit.register(lambda: json.dump(EVENTS, open(os.environ['BENCH_PROBE_OUT'], 'w')))


class _Probe(Hook):
    priority = 'LOWEST'

    def before_train(self, runner):
        EVENTS['before_train'] = time.time()

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        EVENTS.setdefault('first_iter_end', time.time())
        EVENTS['last_iter_end'] = time.time()

    def after_train(self, runner):
        EVENTS['after_train'] = time.time()

    def after_run(self, runner):
        EVENTS['after_run'] = time.time()


_train = Runner.train


def _train_with_probe(self):
    EVENTS['runner_built'] = time.time()
    self.register_hook(_Probe())
    return _train(self)


Runner.train = _train_with_probe
'''


def step_worker(config, options, warmup, iters, profile_steps):
    """Runs in the timed repo: Runner step vs bare loop, then the profile. Returns a dict."""
    import torch
    from mmengine.config import Config
    from mmengine.hooks import Hook
    from mmengine.runner import Runner

    from benchmarks.timing import median_seconds

    cfg = Config.fromfile(config)
    cfg.merge_from_dict(parse_options(options))
    total = warmup + iters
    cfg.work_dir = tempfile.mkdtemp(prefix='bench_step_')
    cfg.train_cfg.max_iters = total
    cfg.train_cfg.val_interval = 10**9  # no validation: the step alone
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=10**9, save_last=False)
    cfg.default_hooks.logger.interval = 10

    class StepTimer(Hook):
        priority = 'LOWEST'
        times = []

        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
            self.times.append(time.perf_counter())

    runner = Runner.from_cfg(cfg)
    # The bare loop runs first, on a loader and an optimizer built from the same config (same
    # seed, hence the same batches as the Runner's loop after it): started after a Runner's
    # train(), the bare loop ran many times slower here (not investigated).
    model = runner.model
    if cfg.default_hooks.get('memory_format'):  # what the Runner's hook does in before_run
        from mmproseco.engine.hooks import MemoryFormatHook
        options = {k: v for k, v in cfg.default_hooks.memory_format.items() if k != 'type'}
        MemoryFormatHook(**options).apply(model)
    wrapper = runner.build_optim_wrapper(cfg.optim_wrapper)
    optimizers = (list(wrapper.values()) if hasattr(wrapper, 'values') else [wrapper])
    loader = endless(runner.build_dataloader(cfg.train_dataloader))

    def bare_step(parts):
        start = time.perf_counter()
        data = next(loader)
        loaded = time.perf_counter()
        data = model.data_preprocessor(data, True)
        losses = model(**data, mode='loss')
        loss = sum(sum(v) if isinstance(v, list) else v for k, v in losses.items() if 'loss' in k)
        loss.backward()
        for w in optimizers:
            clip = w.clip_grad_kwargs if hasattr(w, 'clip_grad_kwargs') else {}
            if clip:
                torch.nn.utils.clip_grad_norm_(
                    [p for g in w.optimizer.param_groups for p in g['params']], **clip)
            w.optimizer.step()
            w.optimizer.zero_grad()
        parts.append((loaded - start, time.perf_counter() - start))

    model.train()
    for _ in range(warmup - 1):  # median_seconds adds one more
        bare_step([])
    bare = []
    bare_s = median_seconds(lambda: bare_step(bare), iters)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU],
                                record_shapes=False, with_stack=False) as prof:
        for _ in range(profile_steps):
            bare_step([])
    timer = StepTimer()
    runner.register_hook(timer)
    runner.train()
    runner_steps = [b - a for a, b in zip(timer.times[warmup - 1:], timer.times[warmup:])]
    events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    whole = sum(e.self_cpu_time_total for e in events)
    median = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
    return dict(
        threads=torch.get_num_threads(), torch=torch.__version__, iters=iters,
        runner_step_s=median(runner_steps), bare_step_s=bare_s,
        bare_load_s=median([d for d, _ in bare]),
        profile_steps=profile_steps,
        top_ops=[dict(name=e.key, share=round(e.self_cpu_time_total / whole, 4),
                      self_cpu_ms_per_step=round(e.self_cpu_time_total / 1e3 / profile_steps, 2),
                      calls_per_step=e.count // profile_steps) for e in events[:12]])


def endless(dataloader):
    """Batches of ``dataloader``, epoch after epoch (a finite sampler runs out)."""
    while True:
        yield from dataloader


def parse_options(options):
    """``key=value`` strings as mmengine's DictAction reads them."""
    from mmengine.config import DictAction
    parsed = {}
    for option in options:
        key, value = option.split('=', 1)
        parsed[key] = DictAction._parse_iterable(value)
    return parsed


def locked(argv, lock, timeout):
    """``argv`` under ``flock lock`` (if given), killed ``timeout`` seconds after it gets the
    lock: the time spent waiting for another process's lock does not count."""
    return (['flock', lock] if lock else []) + ['timeout', str(timeout)] + argv


def run_child(repo, argv, lock, timeout, env=None):
    """Run ``argv`` with cwd/PYTHONPATH = ``repo`` (under ``flock lock`` if given)."""
    env = dict(os.environ, PYTHONPATH=repo, **(env or {}))
    command = locked(argv, lock, timeout)
    done = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f'{command} in {repo} failed:\n{done.stderr[-3000:]}')
    return done.stdout


def measure_step(repo, case, args):
    config, options = CASES[case]
    out = run_child(repo, [
        sys.executable, osp.abspath(__file__), '--worker', config, '--warmup', str(args.warmup),
        '--iters', str(args.iters), '--profile-steps', str(args.profile_steps),
        '--options', *options, *args.options
    ], args.lock, args.timeout)
    return json.loads(out.strip().splitlines()[-1])


def measure_process(repo, case, args):
    """Wall time of tools/train.py with ``--process-iters`` iterations, split at the probe's
    events. The clock starts when the child gets the lock (flock execs the interpreter)."""
    config, options = CASES[case]
    probe_dir = tempfile.mkdtemp(prefix='bench_probe_')
    with open(osp.join(probe_dir, '_bench_probe.py'), 'w') as f:
        f.write(PROBE)
    events_file = osp.join(probe_dir, 'events.json')
    argv = [
        sys.executable, '-c',
        'import time,os,runpy,sys;'
        'open(os.environ["BENCH_START_OUT"],"w").write(repr(time.time()));'
        'import _bench_probe;'
        'sys.argv=sys.argv[1:];runpy.run_path(sys.argv[0],run_name="__main__")',
        'tools/train.py', config, '--work-dir', tempfile.mkdtemp(prefix='bench_proc_'),
        '--cfg-options', f'train_cfg.max_iters={args.process_iters}', *options, *args.options
    ]
    start_file = osp.join(probe_dir, 'start')
    env = dict(BENCH_PROBE_OUT=events_file, BENCH_START_OUT=start_file)
    env['PYTHONPATH'] = f'{repo}:{probe_dir}'
    done = subprocess.run(locked(argv, args.lock, args.timeout), cwd=repo,
                          env=dict(os.environ, **env), capture_output=True, text=True)
    end = time.time()
    if done.returncode:
        raise RuntimeError(f'tools/train.py in {repo} failed:\n{done.stderr[-3000:]}')
    with open(start_file) as f:
        start = float(f.read())
    with open(events_file) as f:
        ev = json.load(f)
    iters = args.process_iters
    loop = ev['last_iter_end'] - ev['first_iter_end']
    return dict(
        iters=iters, wall_s=end - start,
        # torch + mmengine; then mmdet, mmproseco, the config and the model's build.
        imports_s=ev['mmengine_imported'] - start,
        build_s=ev['runner_built'] - ev['mmengine_imported'],
        # Dataloaders, optimizer, weight init and load_from (Runner.train up to the loop).
        setup_s=ev['before_train'] - ev['runner_built'],
        first_iter_s=ev['first_iter_end'] - ev['before_train'],
        loop_step_s=loop / max(iters - 1, 1),
        after_last_iter_s=end - ev['last_iter_end'],
        # Everything but the iterations proper, the first counted as one ordinary step.
        fixed_s=(end - start) - loop - loop / max(iters - 1, 1))


def parse_repo(spec):
    """``PATH`` or ``PATH=case,case``: a checkout, and the cases it runs (None: all). An old
    checkout runs only the cases whose options it knows (its configs as they are)."""
    path, _, cases = spec.partition('=')
    return osp.abspath(path), set(cases.split(',')) if cases else None


def git_label(repo):
    done = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=repo,
                          capture_output=True, text=True)
    dirty = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=no'], cwd=repo,
                           capture_output=True, text=True).stdout.strip()
    return done.stdout.strip() + ('+dirty' if dirty else '')


def median_over_rounds(results):
    """One row per (tree, case): the median over rounds of every timed field, and the list
    of the rounds' values beside it (``<field>_rounds``)."""
    rows = {}
    for r in results:
        rows.setdefault((r['label'], r['case']), []).append(r)
    merged = []
    for (label, case), runs in rows.items():
        row = dict(label=label, case=case, options=runs[0]['options'], rounds=len(runs))
        for what in ('step', 'process'):
            done = [r[what] for r in runs if what in r]
            if not done:
                continue
            row[what] = dict(done[0])
            for key, value in done[0].items():
                if isinstance(value, float):
                    values = [d[key] for d in done]
                    row[what][key] = statistics.median(values)
                    row[what][key + '_rounds'] = values
        merged.append(row)
    return merged


def markdown(results):
    rows = median_over_rounds(results)
    lines = ['| tree | case | rounds | runner step s | bare step s | runner/bare | data s | '
             'fixed cost s | imports s | build s | setup s | after last iter s |',
             '|---|---|---|---|---|---|---|---|---|---|---|---|']
    nan = float('nan')
    for r in rows:
        s, p = r.get('step', {}), r.get('process', {})
        ratio = s['runner_step_s'] / s['bare_step_s'] if s else nan
        lines.append(
            f"| {r['label']} | {r['case']}{' ' + ' '.join(r['options']) if r['options'] else ''}"
            f" | {r['rounds']} | {s.get('runner_step_s', nan):.3f}"
            f" | {s.get('bare_step_s', nan):.3f}"
            f" | {ratio:.3f} | {s.get('bare_load_s', nan):.3f} | {p.get('fixed_s', nan):.1f}"
            f" | {p.get('imports_s', nan):.1f} | {p.get('build_s', nan):.1f}"
            f" | {p.get('setup_s', nan):.1f} | {p.get('after_last_iter_s', nan):.1f} |")
    for r in rows:
        if r.get('step'):
            lines += ['', f"Top operators, self CPU, {r['label']} {r['case']} "
                      f"{' '.join(r['options'])} (first round):", '',
                      '| operator | share | ms/step | calls/step |', '|---|---|---|---|']
            lines += [f"| `{o['name']}` | {o['share']:.1%} | {o['self_cpu_ms_per_step']} "
                      f"| {o['calls_per_step']} |" for o in r['step']['top_ops'][:8]]
    return '\n'.join(lines) + '\n'


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--repo', action='append',
                        help='checkout to time, PATH or PATH=case,case (repeatable)')
    parser.add_argument('--case', action='append', choices=sorted(CASES))
    parser.add_argument('--options', nargs='*', default=[],
                        help='extra --cfg-options for every case (key=value)')
    parser.add_argument('--what', nargs='+', choices=['step', 'process'],
                        default=['step', 'process'])
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--iters', type=int, default=20)
    parser.add_argument('--profile-steps', type=int, default=5)
    parser.add_argument('--process-iters', type=int, default=20)
    parser.add_argument('--rounds', type=int, default=1,
                        help='repeat all measurements, interleaved; tables give medians')
    parser.add_argument('--lock', help='flock file each child runs under')
    parser.add_argument('--timeout', type=float, default=240, help='seconds per child')
    parser.add_argument('--out', default='bench_train_step.json')
    parser.add_argument('--worker', metavar='CONFIG', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(step_worker(args.worker, args.options, args.warmup, args.iters,
                                     args.profile_steps)))
        return
    results = []
    # Rounds interleave the trees and cases (A B A B ...): this VM's speed drifts by tens of
    # percent over minutes, so a ratio comes from medians over rounds, not from one pass.
    for round_index in range(args.rounds):
        for case, (repo, only) in itertools.product(args.case or sorted(CASES),
                                                    map(parse_repo, args.repo or ['.'])):
            if only and case not in only:
                continue
            result = dict(repo=repo, label=git_label(repo), case=case, options=args.options,
                          round=round_index)
            for what in args.what:
                measure = measure_step if what == 'step' else measure_process
                try:
                    result[what] = measure(repo, case, args)
                except Exception as error:  # noqa: B902 (keep the other measurements)
                    detail = getattr(error, 'stderr', None) or ''
                    if isinstance(detail, bytes):
                        detail = detail.decode(errors='replace')
                    result[what + '_error'] = (str(error) + detail)[-2000:]
            print(json.dumps(result), flush=True)  # the log keeps what a later crash loses
            results.append(result)
    with open(args.out, 'w') as f:
        json.dump(dict(nproc=os.cpu_count(), results=results,
                       medians=median_over_rounds(results)), f, indent=2)
    with open(osp.splitext(args.out)[0] + '.md', 'w') as f:
        f.write(markdown(results))


if __name__ == '__main__':
    main()
