"""Plot training loss and validation metrics of a run (work dir or scalars.json) to a PNG.

    python tools/plot_logs.py WORK_DIR [--out curves.png] [--loss-keys loss loss_mask]
                              [--metric-keys coco/bbox_mAP coco/segm_mAP]
"""
import argparse
import os.path as osp

from convnext_dense.visualization import plot_log_curves


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('path', help='a work dir (all its runs) or one scalars.json')
    parser.add_argument('--out', help='PNG to write (default: <path>/curves.png)')
    parser.add_argument('--loss-keys', nargs='+', default=['loss'])
    parser.add_argument('--metric-keys', nargs='+', default=[])
    args = parser.parse_args(argv)
    out = args.out or osp.join(args.path if osp.isdir(args.path) else osp.dirname(args.path),
                               'curves.png')
    series = plot_log_curves(args.path, out, args.loss_keys, args.metric_keys)
    for key, values in series.items():
        print(f'{key}: ' + ' '.join(f'{v:.3f}' for v in values))
    print(f'curves: {osp.abspath(out)}')


if __name__ == '__main__':
    main()
