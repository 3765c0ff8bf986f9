"""Evaluate a checkpoint on a config's test set (COCO bbox / segm mAP, or mIoU).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out results.pkl]
                         [--show-dir DIR] [--tta] [--cfg-options ...] [--launcher pytorch]
"""
import argparse

import convnext_dense  # noqa: F401  (op backend and registries first)
from convnext_dense.engine import launch
from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test a ConvNeXt detector / segmentor')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file (path or URL)')
    parser.add_argument('--work-dir', help='where the evaluation log goes')
    parser.add_argument('--out', help='pickle all predictions to this .pkl file')
    parser.add_argument('--show-dir', help='draw predictions into this directory')
    parser.add_argument('--tta', action='store_true', help='multi-scale + flip test')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    return parser.parse_args(argv)


def build_config(args: argparse.Namespace) -> Config:
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    launch.set_work_dir(cfg, args.config, args.work_dir)
    cfg.load_from = args.checkpoint
    if args.tta:
        launch.enable_test_time_augmentation(cfg)
    if args.show_dir:
        launch.enable_visualisation(cfg, args.show_dir)
    if args.out:
        launch.add_result_dump(cfg, args.out)
    launch.prepare_cpu_distributed(cfg, args.launcher)
    return cfg


def main(argv=None) -> dict:
    cfg = build_config(parse_args(argv))
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    return runner.test()


if __name__ == '__main__':
    main()
