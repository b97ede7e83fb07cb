"""Shared command-line plumbing of the train and test entry points."""
import difflib
import glob
import os
import os.path as osp
import sys
import zipfile

import torch
from mmengine.config import Config, DictAction

from mmproseco.datasets.data_errors import DataError, unwrap_worker_message
from mmproseco.engine.divergence import DivergenceError
from mmproseco.tools.threads import set_torch_threads

#: The errors of a wrong config, wrong data or a diverged run: reported in one line.
USER_ERRORS = (ValueError, FileNotFoundError, KeyError, DivergenceError)
#: Their names, to recognise them in the ``RuntimeError`` torch makes of a worker's error.
USER_ERROR_NAMES = {cls.__name__ for cls in (*USER_ERRORS, DataError)}
_PACKAGE_DIR = osp.dirname(osp.dirname(osp.abspath(__file__)))
#: Where the configs are besides ``./configs``: a source checkout's, and the copy ``mim`` installs.
PACKAGE_CONFIGS = (osp.join(osp.dirname(_PACKAGE_DIR), 'configs'),
                   osp.join(_PACKAGE_DIR, '.mim', 'configs'))


def parse_with_common_args(parser, argv=None):
    """Add the options mmdet's train and test scripts share, then parse ``argv``."""
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, key=value (e.g. train_cfg.max_iters=100)')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
        help='job launcher')
    # torch.distributed.launch passes --local-rank (torch >= 2.0) or --local_rank.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


class FormatOnceConfig(Config):
    """A ``Config`` that runs yapf once per distinct content.

    mmengine re-formats the whole config with yapf (about 1 s of CPU for a detector
    config) every time it logs it, stores it in the message hub, dumps it and puts it in a
    checkpoint: 6-8 times in a short run, a third of a smoke-size stage. The text only
    depends on ``to_dict()``, so the last result is kept, keyed on that dict's repr.
    """

    @property
    def pretty_text(self):
        key = repr(self.to_dict())
        cached = self.__dict__.get('_pretty_text_cache')
        if cached is None or cached[0] != key:
            cached = (key, super().pretty_text)
            object.__setattr__(self, '_pretty_text_cache', cached)
        return cached[1]


def load_config(path, cfg_options=None, launcher='none', work_dir=None):
    """Read a config the way mmdet's tools do, with a clear error for a wrong path.

    The work dir follows mmdet's priority: CLI > the config's ``work_dir`` >
    ``./work_dirs/<config name>``.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file {path!r} does not exist; {suggest_configs(path)}')
    cfg = Config.fromfile(path)
    cfg = FormatOnceConfig(cfg._cfg_dict.to_dict(), cfg_text=cfg.text, filename=cfg.filename)
    cfg.launcher = launcher
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(path))[0])
    return cfg


def suggest_configs(path, limit=3):
    """``did you mean A or B?`` with the existing configs closest to ``path`` (difflib).

    The candidates are the configs outside ``_base_`` under ``./configs`` and under the
    package's configs folder. Whole paths and file names are both compared, so that a wrong
    folder and a typo in the name both lead to the config.
    """
    found = sorted({osp.relpath(name) for folder in ('configs', *PACKAGE_CONFIGS)
                    for name in glob.glob(osp.join(folder, '**', '*.py'), recursive=True)
                    if '_base_' not in name.split(os.sep)})
    by_name = {}
    for name in found:
        by_name.setdefault(osp.basename(name), name)
    close = difflib.get_close_matches(path, found, n=limit, cutoff=0.6) + [
        by_name[name] for name in difflib.get_close_matches(
            osp.basename(path), list(by_name), n=limit, cutoff=0.6)]
    if close:
        return 'did you mean ' + ' or '.join(list(dict.fromkeys(close))[:limit]) + '?'
    return f'give a path such as {found[0]}' if found else 'no config was found under ./configs'


def check_checkpoint(path):
    """Raise :class:`DataError` naming ``path`` unless it is a whole, readable checkpoint.

    torch's zip format is checked by the CRC of every record (one read of the file, nothing
    unpickled); an older pickled checkpoint is loaded with torch's safe loader. Only local
    files are accepted: this package loads no weights from the network.
    """
    if '://' in str(path):
        raise DataError(path, 'is not a local file: mmproseco loads no weights from the network',
                        'give the path of a checkpoint on this machine')
    if not osp.isfile(path):
        raise DataError(path, 'checkpoint file not found', 'check the checkpoint path')
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                damaged = archive.testzip()
            if damaged is None:
                return
            problem = f'its record {damaged} fails its CRC check'
        else:  # truncated zips, empty files and the legacy pickle format land here
            torch.load(path, map_location='cpu', weights_only=True)
            return
    except Exception as err:  # zipfile, pickle and torch each raise their own error types
        if 'Weights only load failed' in str(err):
            return  # whole, but it pickles objects: the loader's own message says what to do
        problem = f'{type(err).__name__}: {err}'.splitlines()[0]
    raise DataError(path, f'is not a readable checkpoint ({osp.getsize(path)} bytes: '
                    f'truncated, empty or corrupt; {problem})',
                    'give a checkpoint that was written completely (a run killed while '
                    'saving leaves a partial file), or train again to write one')


def user_error_message(err):
    """The message to report for ``err`` in one line, or None when ``err`` is a bug.

    A dataloader worker's error comes back with the worker's traceback inside its message (and
    as a ``RuntimeError`` when its type needs more than one argument): its original message
    is the one reported.
    """
    message = str(err.args[0] if isinstance(err, KeyError) and err.args else err)
    unwrapped = unwrap_worker_message(message)
    if unwrapped is None:
        return message if isinstance(err, USER_ERRORS) else None
    type_name, original = unwrapped
    return original if isinstance(err, USER_ERRORS) or type_name in USER_ERROR_NAMES else None


def run_cli(main):
    """Run ``main`` and turn user errors into one readable line.

    Wrong configs and wrong data raise ``ValueError``/``FileNotFoundError`` (:class:`DataError`
    among them) with a message that names the field or file and the fix, and a diverged run
    raises :class:`DivergenceError`; a traceback from deep inside mmengine would bury it.
    Errors of dataloader workers are reported the same way. Set ``MMPROSECO_DEBUG=1`` to see
    the traceback anyway. Torch's thread count is set first, from the cores the process may
    use (:func:`set_torch_threads`), so that processes sharing the machine do not
    oversubscribe it.
    """
    set_torch_threads()
    try:
        main()
    except Exception as err:
        message = user_error_message(err)
        if message is None or os.environ.get('MMPROSECO_DEBUG'):
            raise
        print(f'error: {message}\n(set MMPROSECO_DEBUG=1 for the traceback)', file=sys.stderr)
        sys.exit(2)
