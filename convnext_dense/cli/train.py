"""Train a detector or segmentor from a config (its default_scope picks mmdet / mmseg).

Each flag sets a config key; the run is what ``convnext-dense print-config`` shows for the same
flags, and what mmengine's ``Runner.from_cfg`` or mmdet's / mmseg's own train tool would run.

    convnext-dense train CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp] [--auto-scale-lr]
                          [--seed N] [--deterministic] [--nonfinite-loss stop|skip]
                          [--tensorboard] [--take-over-lock] [--trust-checkpoint]
                          [--cfg-options key=value ...] [--launcher pytorch|slurm]

Bad input ends in one line ``error: ...`` and exit status 2; SIGTERM / SIGINT (Ctrl-C) stop
after the current iteration (or validation batch) with a checkpoint, exit status 143 / 130
(continue with ``--resume``).

Multi-GPU: ``tools/dist_train.sh CONFIG NGPUS [args]`` (torchrun; CPU runs use gloo);
Slurm: ``tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [args]``.
"""
import argparse

from mmengine.config import Config
from mmengine.runner import Runner

from ..engine import launch
from .common import add_config, add_run_arguments, command_parser, run_config


def parse_args(argv=None) -> argparse.Namespace:
    parser = command_parser('train', __doc__)
    add_config(parser)
    parser.add_argument('--resume', nargs='?', const='auto', default=None,
                        help='resume from CKPT, or without a value from the latest checkpoint '
                        'in the work dir')
    parser.add_argument('--amp', action='store_true', help='mixed-precision training (GPU)')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the lr to the actual total batch size')
    parser.add_argument('--seed', type=int, help='seed python, numpy, torch and loader workers')
    parser.add_argument('--deterministic', action='store_true',
                        help='deterministic algorithms (with --seed: bit-identical CPU runs)')
    parser.add_argument('--nonfinite-loss', choices=['stop', 'skip'],
                        help='on a NaN / inf loss: stop the run, or skip that step (sets '
                        "NonFiniteLossHook's action; the configs' default, auto, stops, or under "
                        'a dynamic loss scale lets the scaler skip the step and stops only if '
                        'the losses stay non-finite)')
    parser.add_argument('--tensorboard', action='store_true',
                        help='also log to TensorBoard (event files under <work dir>/<run>/vis_data)')
    parser.add_argument('--take-over-lock', action='store_true',
                        help="take over the work dir's lock whoever holds it (a run killed on "
                        'another host); sets WorkDirLockHook.take_over')
    add_run_arguments(parser)
    return parser.parse_args(argv)


def build_config(args: argparse.Namespace) -> Config:
    cfg = run_config(args)
    if args.amp:
        launch.enable_amp(cfg)
    if args.auto_scale_lr:
        launch.enable_auto_scale_lr(cfg)
    if args.tensorboard:
        launch.enable_tensorboard(cfg)
    launch.set_randomness(cfg, args.seed, args.deterministic)
    if args.nonfinite_loss:
        launch.set_nonfinite_loss_action(cfg, args.nonfinite_loss)
    if args.take_over_lock:
        launch.take_over_lock(cfg)
    launch.set_resume(cfg, args.resume)
    launch.prepare_cpu_distributed(cfg, args.launcher)
    return cfg


def train(args: argparse.Namespace) -> Runner:
    """Trains the run ``args`` describe; the Runner, trained."""
    runner = launch.build_runner(build_config(args))
    runner.train()
    return runner


def main(argv=None) -> Runner:
    return train(parse_args(argv))
