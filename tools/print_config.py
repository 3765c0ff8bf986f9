"""Print a config as mmengine sees it: bases merged, ``--cfg-options`` applied (and checked,
as every tool checks them). What it prints is what tools/train.py and tools/test.py run.

    python tools/print_config.py CONFIG [--cfg-options KEY=VALUE ...] [--save merged.py]
"""
import argparse
import sys

from mmengine.config import Config, DictAction

from convnext_dense.engine.config import load_config
from convnext_dense.errors import run_tool


def main(argv=None) -> Config:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, metavar='KEY=VALUE')
    parser.add_argument('--save', help='also write the merged config to this file')
    args = parser.parse_args(argv)
    cfg = load_config(args.config, args.cfg_options, check_data=False)
    print(cfg.pretty_text)
    if args.save:
        cfg.dump(args.save)
        print(f'# saved to {args.save}')
    return cfg


if __name__ == '__main__':
    sys.exit(run_tool(main))
