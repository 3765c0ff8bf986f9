"""The flags several commands share, declared once, and the config a run's flags make."""
import argparse

from mmengine.config import Config, DictAction

from ..engine import launch
from ..engine.config import load_config
from . import PROGRAM


def command_parser(command: str, docstring: str) -> argparse.ArgumentParser:
    """The parser of ``convnext-dense COMMAND``: the module docstring's first line describes it,
    the rest (its usage and notes) follows the arguments."""
    summary, _, rest = docstring.partition('\n')
    return argparse.ArgumentParser(prog=f'{PROGRAM} {command}', description=summary,
                                   epilog=rest.strip() or None,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)


def add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('config', help='config file, or the name of a shipped config '
                        f'(`{PROGRAM} configs` lists them)')


def add_cfg_options(parser: argparse.ArgumentParser,
                    example: str = 'train_cfg.max_iters=100') -> None:
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, metavar='KEY=VALUE',
                        help=f'override config entries, e.g. {example}')


def add_trust_checkpoint(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--trust-checkpoint', action='store_true',
                        help='unpickle checkpoints (load_from, resume, the one named) fully even '
                        'if they need more than tensors, which can run code: only for files '
                        'from a source you trust (sets trust_checkpoint=True)')


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """What ``train`` and ``test`` share: work dir, config overrides, trust and launcher."""
    parser.add_argument('--work-dir', help='where logs, checkpoints and results go')
    add_cfg_options(parser)
    add_trust_checkpoint(parser)
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    parser.add_argument('--compile', action='store_true',
                        help="torch.compile the backbone and neck (the config's compile = True)")


def run_config(args: argparse.Namespace) -> Config:
    """The config ``args`` (of :func:`add_run_arguments`) name, loaded and checked
    (:func:`convnext_dense.engine.config.load_config`), with the launcher,
    ``--trust-checkpoint`` and the work dir applied."""
    cfg = load_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
    if args.trust_checkpoint:
        cfg.trust_checkpoint = True
    if args.compile:
        cfg.compile = True
    launch.set_work_dir(cfg, args.config, args.work_dir)
    launch.check_work_dir(cfg.work_dir)
    return cfg
