"""Training curves from mmengine's ``vis_data/scalars.json`` logs, as a PNG.

A work dir holds one ``<timestamp>/vis_data/scalars.json`` per run (a resumed run adds one);
they are read in timestamp order and joined into one history. Training records carry ``iter``
(or ``epoch``) and ``step``; validation records carry metrics such as ``coco/bbox_mAP`` or
``mIoU`` and the ``step`` they were taken at.
"""
import glob
import json
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import matplotlib

matplotlib.use('Agg')  # files only; never needs a display
import matplotlib.pyplot as plt  # noqa: E402

DEFAULT_METRIC_SUFFIXES = ('bbox_mAP', 'segm_mAP', 'mIoU', 'aAcc')


def find_scalar_logs(path: str) -> List[str]:
    """``path`` itself if it is a file, else every ``scalars.json`` under it, oldest first."""
    if osp.isfile(path):
        return [path]
    found = sorted(glob.glob(osp.join(path, '**', 'vis_data', 'scalars.json'), recursive=True))
    if not found:
        raise FileNotFoundError(f'No vis_data/scalars.json under {path}.')
    return found


def load_scalars(path: str) -> Tuple[List[dict], List[dict]]:
    """(training records, validation records) from a work dir or one scalars.json."""
    train, val = [], []
    for log in find_scalar_logs(path):
        with open(log) as f:
            for number, line in enumerate(f, 1):
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    raise ValueError(f'{log}:{number}: not a JSON record ({error}).') from None
                (train if 'loss' in record else val).append(record)
    return train, val


def _series(records: Sequence[dict], key: str) -> Tuple[List[float], List[float]]:
    points = {r['step']: r[key] for r in records if key in r}  # a resumed step: latest wins
    steps = sorted(points)
    return steps, [points[s] for s in steps]


def plot_log_curves(path: str, out_file: str, loss_keys: Sequence[str] = ('loss', ),
                    metric_keys: Sequence[str] = ()) -> Dict[str, List[float]]:
    """Plots losses (left) and validation metrics (right) against the step; returns the
    plotted metric series by key. ``metric_keys`` defaults to every mAP / mIoU key found."""
    train, val = load_scalars(path)
    if not metric_keys:
        metric_keys = sorted({k for r in val for k in r
                              if k.endswith(DEFAULT_METRIC_SUFFIXES)})
    figure, (loss_axis, metric_axis) = plt.subplots(1, 2, figsize=(11, 4))
    for key in loss_keys:
        loss_axis.plot(*_series(train, key), label=key)
    plotted = {}
    for key in metric_keys:
        steps, values = _series(val, key)
        metric_axis.plot(steps, values, marker='o', label=key)
        plotted[key] = values
    for axis, title in ((loss_axis, 'training loss'), (metric_axis, 'validation')):
        axis.set_xlabel('iteration')
        axis.set_title(title)
        axis.grid(alpha=0.3)
        axis.legend()
    figure.suptitle(osp.basename(osp.normpath(path)))
    figure.tight_layout()
    figure.savefig(out_file, dpi=100)
    plt.close(figure)
    return plotted
