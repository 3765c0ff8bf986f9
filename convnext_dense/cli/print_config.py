"""Print a config as the run sees it: bases merged, ``--cfg-options`` applied and checked.

What it prints is what ``convnext-dense train`` and ``test`` run with the same flags.

    convnext-dense print-config CONFIG [--cfg-options KEY=VALUE ...] [--save merged.py]
"""
from mmengine.config import Config

from ..engine.config import load_config
from .common import add_cfg_options, add_config, command_parser


def main(argv=None) -> Config:
    parser = command_parser('print-config', __doc__)
    add_config(parser)
    add_cfg_options(parser)
    parser.add_argument('--save', help='also write the merged config to this file')
    args = parser.parse_args(argv)
    cfg = load_config(args.config, args.cfg_options, check_data=False)
    print(cfg.pretty_text)
    if args.save:
        cfg.dump(args.save)
        print(f'# saved to {args.save}')
    return cfg

