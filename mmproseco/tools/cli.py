"""Shared command-line plumbing of the train and test entry points."""
import os
import os.path as osp
import sys

from mmengine.config import Config, DictAction


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
        raise FileNotFoundError(
            f'config file {path!r} does not exist; give a path such as '
            f'configs/deformable_detr/deformable-detr_r18_1xb8-cpu_shapes.py')
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


def run_cli(main):
    """Run ``main`` and turn user errors into one readable line.

    Wrong configs and wrong data raise ``ValueError``/``FileNotFoundError`` with a message
    that names the field or file and the fix; a traceback from deep inside mmengine would
    bury it. Set ``MMPROSECO_DEBUG=1`` to see the traceback anyway.
    """
    try:
        main()
    except (ValueError, FileNotFoundError, KeyError) as err:
        if os.environ.get('MMPROSECO_DEBUG'):
            raise
        print(f'error: {err}\n(set MMPROSECO_DEBUG=1 for the traceback)', file=sys.stderr)
        sys.exit(2)
