"""Evaluate a checkpoint on a config's test set (COCO bbox / segm mAP, or mIoU).

    convnext-dense test CONFIG CHECKPOINT [--work-dir DIR] [--out results.pkl]
                         [--show-dir DIR] [--tta] [--trust-checkpoint] [--cfg-options ...]
                         [--launcher pytorch]

CHECKPOINT (file or URL) is read without running code from it and must fit the config's model
exactly. A ``.onnx`` file from ``convnext-dense export`` is run in ONNX Runtime instead, through the
same dataloader and evaluator; bad input ends in one line ``error: ...`` and exit status 2.
"""
import argparse

from mmengine.config import Config

from ..engine import launch
from .common import add_config, add_run_arguments, command_parser, run_config


def parse_args(argv=None) -> argparse.Namespace:
    parser = command_parser('test', __doc__)
    add_config(parser)
    parser.add_argument('checkpoint', help='checkpoint file (path or URL)')
    parser.add_argument('--out', help='pickle all predictions to this .pkl file')
    parser.add_argument('--show-dir', help='draw predictions into this directory')
    parser.add_argument('--tta', action='store_true', help='multi-scale + flip test')
    add_run_arguments(parser)
    return parser.parse_args(argv)


def build_config(args: argparse.Namespace) -> Config:
    cfg = run_config(args)
    if args.checkpoint.endswith('.onnx'):
        launch.use_onnx_model(cfg, args.checkpoint)
    else:
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
    return launch.build_runner(build_config(parse_args(argv))).test()

