"""Plot losses and validation metrics of one or more runs (work dirs or scalars.json files).

    convnext-dense plot-logs WORK_DIR [WORK_DIR ...] [--keys loss bbox_mAP mIoU]
                              [--x iter|epoch] [--out curves.png]

One panel per key, one line per run. A key matches a logged key exactly or by its last part
(``bbox_mAP`` is ``coco/bbox_mAP``). Default keys: ``loss`` and every mAP / mIoU logged.
"""
import os.path as osp

from ..visualization import plot_log_curves
from ..visualization.log_curves import X_AXES
from .common import command_parser


def main(argv=None) -> dict:
    parser = command_parser('plot-logs', __doc__)
    parser.add_argument('paths', nargs='+', help='work dirs (all their runs) or scalars.json')
    parser.add_argument('--keys', nargs='+', default=[], help='scalars to plot, one panel each')
    parser.add_argument('--x', choices=X_AXES, default='iter', help='x axis')
    parser.add_argument('--out', help='PNG to write (default: <first path>/curves.png)')
    args = parser.parse_args(argv)
    first = args.paths[0]
    out = args.out or osp.join(first if osp.isdir(first) else osp.dirname(first), 'curves.png')
    plotted = plot_log_curves(args.paths, out, args.keys, args.x)
    for key, runs in plotted.items():
        for run, (xs, values) in runs.items():
            last = f'{values[-1]:.4f} at {args.x} {xs[-1]:g}' if values else 'no points'
            print(f'{key} [{run}]: {len(values)} points, last {last}')
    print(f'curves: {osp.abspath(out)}')
    return plotted

