"""Training curves from mmengine's ``vis_data/scalars.json`` logs, as a PNG.

A work dir holds one ``<timestamp>/vis_data/scalars.json`` per run (a resumed run adds one);
they are read in timestamp order and joined into one history. Training records carry ``step``
(the global iteration) and, in epoch-based runs, ``epoch``; validation records carry metrics such
as ``coco/bbox_mAP`` or ``mIoU`` and the ``step`` they were taken at (the epoch in epoch-based
runs, whose LoggerHook logs metrics by epoch).

:func:`plot_log_curves` draws one panel per key and one line per work dir, so several runs are
compared on the same axes, against iterations or epochs.
"""
import glob
import json
import os.path as osp
import warnings
from typing import Dict, List, Sequence, Tuple, Union

import matplotlib

matplotlib.use('Agg')  # files only; never needs a display
import matplotlib.pyplot as plt  # noqa: E402

from ..errors import InputError  # noqa: E402

DEFAULT_METRIC_SUFFIXES = ('bbox_mAP', 'segm_mAP', 'mIoU', 'aAcc')
X_AXES = ('iter', 'epoch')
Series = Tuple[List[float], List[float]]


def find_scalar_logs(path: str) -> List[str]:
    """``path`` itself if it is a file, else every ``scalars.json`` under it, oldest first."""
    if osp.isfile(path):
        return [path]
    found = sorted(glob.glob(osp.join(path, '**', 'vis_data', 'scalars.json'), recursive=True))
    if not found:
        raise FileNotFoundError(f'No vis_data/scalars.json under {path}.')
    return found


class LogError(InputError, ValueError):
    """A log that cannot be read as mmengine's scalars.json, or a key / axis it lacks."""


def _records(log: str) -> List[dict]:
    """The JSON records of one scalars.json. A last line cut short (a run killed while writing
    it) is left out with a warning; any other bad line is a :class:`LogError`."""
    with open(log, 'rb') as f:
        data = f.read()
    try:
        lines = data.decode('utf-8').splitlines()
    except UnicodeDecodeError as error:
        raise LogError(f'{log}: not a text log (byte {error.start} is not UTF-8).') from None
    records = []
    for number, line in enumerate(lines, 1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            if number == len(lines) and not data.endswith(b'\n'):
                warnings.warn(f'{log}:{number}: last line is cut short; left out.')
                continue
            raise LogError(f'{log}:{number}: not a JSON record ({error}).') from None
        if not isinstance(record, dict):
            raise LogError(f'{log}:{number}: not a JSON record (a {type(record).__name__}).')
        records.append(record)
    return records


def load_scalars(path: str) -> Tuple[List[dict], List[dict]]:
    """(training records, validation records) from a work dir or one scalars.json;
    :class:`LogError` if there are none."""
    train, val = [], []
    logs = find_scalar_logs(path)
    for log in logs:
        for record in _records(log):
            (train if 'loss' in record else val).append(record)
    if not train and not val:
        raise LogError(f'{path}: no logged scalars in {", ".join(logs)} (empty log).')
    return train, val


def resolve_key(key: str, available: Sequence[str]) -> str:
    """``key`` itself if logged, else the one logged key ending in ``/key`` (``bbox_mAP`` ->
    ``coco/bbox_mAP``); ``KeyError`` naming the candidates otherwise."""
    if key in available:
        return key
    matches = sorted(k for k in available if k.endswith('/' + key))
    if len(matches) == 1:
        return matches[0]
    raise LogError(f'{key!r} is not logged (or is ambiguous: {matches}); logged keys: '
                   f'{sorted(available)}')


class RunLog:
    """One work dir's joined scalar history and its x coordinates in iterations or epochs."""

    def __init__(self, path: str):
        self.path = path
        self.train, self.val = load_scalars(path)
        self.epoch_based = any('epoch' in r for r in self.train)
        self.keys = sorted({k for r in self.train + self.val for k in r
                            if k not in ('step', 'iter', 'epoch')})

    def _x(self, record: dict, is_val: bool, x_axis: str) -> float:
        if x_axis == 'iter':
            if is_val and self.epoch_based:  # logged at the epoch: its last iteration
                return max(r['step'] for r in self.train if r.get('epoch') == record['step'])
            return record['step']
        if not self.epoch_based:
            raise LogError(f'{self.path} is an iteration-based run (no epoch in its logs); '
                             f'plot it with --x iter.')
        return record['step'] if is_val else record['epoch']

    def series(self, key: str, x_axis: str) -> Series:
        """(x, values) of ``key`` (resolved by :func:`resolve_key`); a step logged twice (a
        resumed run) keeps its latest value."""
        key = resolve_key(key, self.keys)
        is_val = not any(key in r for r in self.train)
        points = {self._x(r, is_val, x_axis): r[key]
                  for r in (self.val if is_val else self.train) if key in r}
        xs = sorted(points)
        return xs, [points[x] for x in xs]

    def default_keys(self) -> List[str]:
        return ['loss'] + [k for k in self.keys if k.endswith(DEFAULT_METRIC_SUFFIXES)]


def _run_labels(paths: Sequence[str]) -> List[str]:
    names = [osp.basename(osp.normpath(p)) for p in paths]
    return names if len(set(names)) == len(names) else list(paths)


def plot_log_curves(paths: Union[str, Sequence[str]], out_file: str,
                    keys: Sequence[str] = (), x_axis: str = 'iter') -> Dict[str, Dict[str, Series]]:
    """One panel per key (default: ``loss`` and every mAP / mIoU key of the first run), one line
    per work dir; returns ``{key: {run: (x, values)}}``."""
    if x_axis not in X_AXES:
        raise LogError(f'x axis {x_axis!r}: choose one of {X_AXES}.')
    paths = [paths] if isinstance(paths, str) else list(paths)
    runs = [RunLog(p) for p in paths]
    keys = list(keys) or runs[0].default_keys()
    figure, axes = plt.subplots(1, len(keys), figsize=(5 * len(keys), 4), squeeze=False)
    plotted: Dict[str, Dict[str, Series]] = {}
    for axis, key in zip(axes[0], keys):
        plotted[key] = {}
        for label, run in zip(_run_labels(paths), runs):
            xs, ys = run.series(key, x_axis)
            axis.plot(xs, ys, marker='o' if len(xs) < 30 else None, label=label)
            plotted[key][label] = (xs, ys)
        axis.set_xlabel('iteration' if x_axis == 'iter' else 'epoch')
        axis.set_title(key)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(out_file, dpi=100)
    plt.close(figure)
    return plotted
