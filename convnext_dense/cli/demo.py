"""Train Mask R-CNN and UperNet (ConvNeXt-atto) on the toy data and show what they learned.

``make demo`` runs it: both models train from scratch on the embedded toy shapes (CPU, a few minutes each), validating each run 4 times on the held-out toy
validation split, then shows what they learned: COCO bbox / segm mAP and mIoU (per class),
pictures of ground truth beside prediction, the training curves, and a one-screen summary.

    convnext-dense demo [--work-dir work_dirs/demo] [--det-iters N] [--seg-iters N]
                         [--cfg-options KEY=VALUE ...]

The iterations default to the demo configs' schedules; ``--det-iters`` / ``--seg-iters`` set
``train_cfg.max_iters``, the cosine schedule's end and ``train_cfg.val_interval`` (a quarter).
"""
import argparse
import contextlib
import os
import os.path as osp
import sys
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, TextIO, Tuple

import mmcv
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.registry import DefaultScope

from ..apis import Predictor
from ..engine import launch
from ..engine.config import CONFIG_ROOT, load_config
from ..tasks import DETECTION, SEGMENTATION, Task
from ..visualization import plot_log_curves
from ..visualization.comparison import (ComparisonGrid, comparison_grid, upscaled,
                                                     upscale_factor)
from ..visualization.log_curves import load_scalars
from . import console_command, train as train_command
from .common import add_cfg_options, command_parser

VALIDATIONS = 4  # per run, evenly spaced, the last at the end of training
GRID_IMAGES = 3
PANEL_SIDE = 320  # the least side of a grid panel, in pixels
HERO_PANEL_SIDE = 480  # the single-image picture's
SCORE_THR = 0.5


@dataclass(frozen=True)
class Demo:
    """One demo run: its config under configs/demo, what to call it, and its logged metrics
    (shown name -> logged key); ``class_metric`` is the per-class key prefix, if logged."""
    task: Task
    config: str
    model: str
    metrics: Dict[str, str]
    class_metric: Optional[str] = None

    @property
    def config_path(self) -> str:
        return osp.join(CONFIG_ROOT, 'demo', self.config)

    @property
    def name(self) -> str:
        return osp.splitext(self.config)[0]


DEMOS = (
    Demo(DETECTION, 'mask-rcnn_convnext-atto_toy.py', 'Mask R-CNN + ConvNeXt-atto',
         {'bbox mAP': 'coco/bbox_mAP', 'segm mAP': 'coco/segm_mAP'}),
    Demo(SEGMENTATION, 'upernet_convnext-atto_toy.py', 'UperNet + ConvNeXt-atto',
         {'mIoU': 'mIoU'}, class_metric='IoU.'),
)


@dataclass
class DemoResult:
    """What one demo run produced: iterations trained, validation images, the validation
    history (records with ``step`` and the logged metrics), the last checkpoint, the curves
    PNG, and the pictures (path -> :class:`ComparisonGrid`) of the validation images shown."""
    demo: Demo
    iters: int
    val_images: int
    history: List[dict]  # validation records: 'step' and the logged metrics
    checkpoint: str
    curves: str
    grids: Dict[str, ComparisonGrid] = field(default_factory=dict)  # by picture path
    image_paths: List[str] = field(default_factory=list)  # the validation images shown

    @property
    def pictures(self) -> List[str]:
        return list(self.grids)

    @property
    def final(self) -> dict:
        return self.history[-1]


def formatted(value: float, key: str) -> str:
    """A metric as people read it: mAP in [0, 1] to 3 places, percentages (IoU) to 1."""
    return f'{value:.3f}' if 'mAP' in key else f'{value:.1f}'


def schedule_options(config: str, iters: int) -> dict:
    """``--cfg-options`` that train for ``iters`` iterations and validate VALIDATIONS times; the
    decay (the config's last lr scheduler) then ends at ``iters``, unless ``iters`` ends the run
    before the decay begins (a test's few iterations)."""
    schedulers = Config.fromfile(config).param_scheduler
    options = {'train_cfg.max_iters': iters,
               'train_cfg.val_interval': max(1, iters // VALIDATIONS)}
    if iters > schedulers[-1].get('begin', 0):
        options[f'param_scheduler.{len(schedulers) - 1}.end'] = iters
    return options


class _ConsoleProgress(Hook):
    """The demo's console while a model trains: one line that counts iterations (with the
    loss), and the metrics after each validation; everything else goes to the run's log."""

    priority = 'VERY_LOW'

    def __init__(self, demo: Demo, console: TextIO):
        self.demo, self.console = demo, console

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if not self.console.isatty():  # a log file gets the validations only
            return
        loss = sum(float(v) for k, v in (outputs or {}).items() if 'loss' in k)
        self.console.write(f'\r  iteration {runner.iter + 1}/{runner.max_iters}, '
                           f'loss {loss:.3f}  ')
        self.console.flush()

    def after_val_epoch(self, runner, metrics=None) -> None:
        shown = ', '.join(f'{name} {formatted(metrics[key], key)}'
                          for name, key in self.demo.metrics.items() if key in (metrics or {}))
        start = '\r' if self.console.isatty() else ''
        self.console.write(f'{start}  validated at iteration {runner.iter}: {shown}{" " * 20}\n')
        self.console.flush()


def _output_into(path: str):
    """Python's stdout and stderr appended to ``path`` (pycocotools' notes, warnings)."""
    stack = contextlib.ExitStack()
    log = stack.enter_context(open(path, 'a'))
    stack.enter_context(contextlib.redirect_stdout(log))
    stack.enter_context(contextlib.redirect_stderr(log))
    return stack


def train(demo: Demo, work_dir: str, options: dict) -> Tuple[int, str]:
    """Trains the demo's config with ``options`` (``--cfg-options``) as ``convnext-dense train``
    does, showing only progress and metrics on the console (the log, pycocotools' notes and
    warnings go to the run's log folder); returns the iterations trained and that folder."""
    args = train_command.parse_args([demo.config_path, '--work-dir', work_dir])
    args.cfg_options = options or None
    cfg = train_command.build_config(args)
    print(f'{demo.model} ({demo.name}):')
    console = sys.stdout
    os.makedirs(cfg.work_dir, exist_ok=True)
    staged = osp.join(cfg.work_dir, 'console.log')
    # Built inside the redirection, the logger's console handler writes to the log too.
    with _output_into(staged):
        runner = launch.build_runner(cfg)
        runner.register_hook(_ConsoleProgress(demo, console))
        runner.train()
    log = osp.join(runner.log_dir, 'console.log')
    os.replace(staged, log)
    print(f'  full log: {_shown(runner.log_dir)}')
    return runner.iter, runner.log_dir


def validation_set(predictor: Predictor):
    """The config's validation dataset, with its test pipeline (which loads ground truth)."""
    with DefaultScope.overwrite_default_scope(predictor.task.scope):
        return predictor.task.registry('DATASETS').build(predictor.cfg.val_dataloader.dataset)


def predicted_with_truth(predictor: Predictor, dataset, count: int):
    """(image path, data sample) for the first ``count`` images of ``dataset``: the
    prediction, with the ground truth (in the image's own pixels) beside it."""
    shown = []
    for index in range(min(count, len(dataset))):
        image = osp.abspath(dataset.get_data_info(index)['img_path'])
        truth = dataset[index]['data_samples']
        sample = predictor.predict(image)
        for name in ('gt_instances', 'gt_sem_seg'):
            if name in truth:
                sample.set_field(truth.get(name), name)
        shown.append((image, sample))
    return shown


def comparison_rows(predictor: Predictor, shown, min_side: int):
    """(ground truth, prediction) panels for each (image path, sample) of ``shown``, enlarged
    so that their shorter side is at least ``min_side`` pixels."""
    rows = []
    for image, sample in shown:
        rgb = mmcv.imread(image, channel_order='rgb')
        factor = upscale_factor(*rgb.shape[:2], min_side)
        rgb = mmcv.imrescale(rgb, factor, interpolation='nearest')
        rows.append(predictor.draw_panels(rgb, upscaled(sample, factor), SCORE_THR))
    return rows


def picture_title(result: DemoResult, num_images: int) -> str:
    """Two lines: the model, its iterations and final metrics; what was evaluated and shown."""
    metrics = ', '.join(f'{name} {formatted(result.final[key], key)}'
                        for name, key in result.demo.metrics.items())
    return (f'{result.demo.model}, {result.iters} iterations: {metrics}\n'
            f'metrics on the {result.val_images} held-out toy validation images; '
            f'{"the first " + str(num_images) if num_images > 1 else "the first"} shown')


def draw_pictures(result: DemoResult, predictor: Predictor, dataset, work_root: str) -> None:
    """Writes the single-image picture and the grid of the first validation images, and
    records them in ``result``."""
    meta = predictor.model.dataset_meta
    legend = [(name, tuple(colour)) for name, colour in zip(meta['classes'], meta['palette'])]
    legend += result.demo.task.unscored_legend_entries
    shown = predicted_with_truth(predictor, dataset, GRID_IMAGES)  # each predicted once
    result.image_paths = [image for image, _ in shown]
    for suffix, rows_shown, side in (('prediction', shown[:1], HERO_PANEL_SIDE),
                                     ('grid', shown, PANEL_SIDE)):
        rows = comparison_rows(predictor, rows_shown, side)
        grid = comparison_grid(rows, picture_title(result, len(rows_shown)), legend)
        path = osp.abspath(osp.join(work_root, f'{result.demo.task.name}_{suffix}.png'))
        mmcv.imwrite(grid.picture[..., ::-1], path)
        result.grids[path] = grid


def run_demo(demo: Demo, work_root: str, iters: Optional[int],
             cfg_options: Optional[dict] = None) -> DemoResult:
    work_dir = osp.join(work_root, demo.name)
    options = {**(schedule_options(demo.config_path, iters) if iters else {}),
               **(cfg_options or {})}
    trained, log_dir = train(demo, work_dir, options)
    with _output_into(osp.join(log_dir, 'console.log')):
        return _evaluated(demo, work_root, work_dir, options, trained)


def _evaluated(demo: Demo, work_root: str, work_dir: str, options: dict,
               trained: int) -> DemoResult:
    """The result of a trained demo run: its history, curves and pictures."""
    _, history = load_scalars(work_dir)
    checkpoint = osp.join(work_dir, f'iter_{trained}.pth')
    curves = osp.abspath(osp.join(work_root, f'{demo.task.name}_curves.png'))
    plot_log_curves(work_dir, curves, keys=['loss', *demo.metrics.values()])
    # The config as trained, so the pictures come from the validation set the metrics did.
    cfg = load_config(demo.config_path, options, check_data=False)
    predictor = Predictor(cfg, checkpoint)
    dataset = validation_set(predictor)
    result = DemoResult(demo, trained, len(dataset), history, checkpoint, curves)
    draw_pictures(result, predictor, dataset, work_root)
    return result


def _shown(path: str) -> str:
    """``path`` relative to the current directory if it lies under it, else absolute."""
    relative = osp.relpath(path)
    return path if relative.startswith('..') else relative


def summary(results: Sequence[DemoResult], seconds: float) -> str:
    """The one-screen report: what was trained, the metrics at each validation, per-class
    results, where the pictures and checkpoints are, and what to try next."""
    rule = '=' * 88
    lines = [rule, f'convnext-dense demo: two ConvNeXt-atto models trained from scratch on the '
             f'toy shapes, on CPU, in {seconds / 60:.1f} min', '']
    for result in results:
        demo, history = result.demo, result.history
        lines.append(f'{demo.model}: {result.iters} iterations '
                     f'(config {demo.name}), on {result.val_images} held-out images:')
        lines.append('  ' + f'{"iteration":<10}' + ''.join(f'{r["step"]:>8}' for r in history))
        for name, key in demo.metrics.items():
            lines.append('  ' + f'{name:<10}' +
                         ''.join(f'{formatted(r[key], key):>8}' for r in history))
        if demo.class_metric:
            per_class = [(k[len(demo.class_metric):], v) for k, v in result.final.items()
                         if k.startswith(demo.class_metric)]
            lines.append('  per class: ' + '  '.join(f'{n} {v:.1f}' for n, v in per_class))
        lines.append('')
    lines.append('Pictures, ground truth | prediction, and training curves:')
    for result in results:
        lines += [f'  {_shown(path)}' for path in (*result.pictures, result.curves)]
    lines.append('Checkpoints:')
    lines += [f'  {_shown(result.checkpoint)}' for result in results]
    first = results[0]
    lines += ['', 'Next, predict on your own images (a folder or files; PNG + JSON per image):',
              f'  {_shown(console_command())} infer {first.demo.name} '
              f'{_shown(first.checkpoint)} YOUR_IMAGES --out-dir work_dirs/infer', rule]
    return '\n'.join(lines)


def parse_args(argv=None) -> argparse.Namespace:
    parser = command_parser('demo', __doc__)
    parser.add_argument('--work-dir', default=osp.join('work_dirs', 'demo'))
    parser.add_argument('--det-iters', type=int, help='default: the config\'s schedule')
    parser.add_argument('--seg-iters', type=int, help='default: the config\'s schedule')
    add_cfg_options(parser, 'optim_wrapper.optimizer.lr=0.001 (both runs)')
    return parser.parse_args(argv)


def main(argv=None) -> List[DemoResult]:
    args = parse_args(argv)
    start = time.monotonic()
    results = [run_demo(demo, args.work_dir, iters, args.cfg_options)
               for demo, iters in zip(DEMOS, (args.det_iters, args.seg_iters))]
    print('\n' + summary(results, time.monotonic() - start))
    return results

