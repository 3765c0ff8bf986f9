"""Keeps Runner checkpoints loadable by ``torch.load(weights_only=True)``, with no allow-list.

torch >= 2.6 loads with ``weights_only=True`` by default, and mmengine 0.10.7 calls ``torch.load``
without the argument (open-mmlab/mmengine#1655), so resuming from, or ``init_detector`` /
``init_model`` on, a stock Runner checkpoint fails: its ``message_hub`` holds ``HistoryBuffer``
objects of numpy arrays, whose pickle also names the class's statistics methods (loading those
would need ``builtins.getattr`` allowed, i.e. arbitrary attribute access). Allow-listing the
classes would change process-wide state (and lets a crafted file reach them); instead this hook
writes each buffer as plain lists and ints before the checkpoint is saved, and rebuilds the
buffers after it is loaded, before the Runner reads them. Loading constructs new objects only.
Numpy scalars the Runner keeps beside them (``runtime_info['eta']``, from ``IterTimerHook``)
are saved as the Python numbers they hold.
"""
from typing import Any

import numpy as np

from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer

# Marks a buffer written by this hook.
BUFFER_TAG = '__history_buffer__'


def buffer_to_plain(buffer: HistoryBuffer) -> dict:
    """A ``HistoryBuffer`` as lists of Python numbers (values kept exactly)."""
    logs, counts = buffer.data
    return {BUFFER_TAG: True, 'log_history': logs.tolist(), 'count_history': counts.tolist(),
            'max_length': int(buffer.max_length)}


def plain_to_buffer(value: Any) -> Any:
    """The ``HistoryBuffer`` that :func:`buffer_to_plain` wrote; anything else unchanged."""
    if isinstance(value, dict) and value.get(BUFFER_TAG):
        return HistoryBuffer(value['log_history'], value['count_history'],
                             value['max_length'])
    return value


class WeightsOnlyCheckpointHook(Hook):
    """Converts ``checkpoint['message_hub']['log_scalars']`` to plain data on save and back to
    ``HistoryBuffer`` objects on load (checkpoints without plain buffers load unchanged)."""

    priority = 'VERY_LOW'  # after every hook that adds to the checkpoint on save

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        message_hub = checkpoint.get('message_hub', {})
        scalars = message_hub.get('log_scalars', {})
        for key, value in scalars.items():
            if isinstance(value, HistoryBuffer):
                scalars[key] = buffer_to_plain(value)
        for part in (message_hub.get('runtime_info', {}), checkpoint.get('meta', {})):
            for key, value in part.items():
                if isinstance(value, np.generic):
                    part[key] = value.item()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        scalars = checkpoint.get('message_hub', {}).get('log_scalars', {})
        for key, value in scalars.items():
            scalars[key] = plain_to_buffer(value)
