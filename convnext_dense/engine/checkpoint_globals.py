"""Lets ``torch.load(weights_only=True)`` read mmengine Runner checkpoints.

torch >= 2.6 loads with ``weights_only=True`` by default, and mmengine 0.10.7 calls
``torch.load`` without the argument, so resuming fails on what a Runner checkpoint holds besides
tensors: ``message_hub`` keeps ``HistoryBuffer`` objects of numpy arrays, and ``meta`` numpy
scalars. We allow-list exactly those classes.

``HistoryBuffer.__getstate__`` also pickles its statistics methods (``HistoryBuffer.mean``, ...)
by reference, which the weights-only unpickler would only accept if ``builtins.getattr`` were
allowed, opening it to arbitrary attribute access. Those methods are class-level registrations
that ``HistoryBuffer.__setstate__`` restores anyway, so we stop pickling them. Checkpoints written
by an unpatched mmengine still hold them: load those once with ``weights_only=False`` (only if
you trust the file) and re-save.
"""
import numpy as np
import torch
from mmengine.logging import HistoryBuffer

# numpy 2 moved numpy.core to numpy._core; pickles name whichever the writer had.
_NUMPY_MULTIARRAY = getattr(np, '_core', np.core).multiarray


def _numpy_globals() -> list:
    dtype_classes = [type(np.dtype(name)) for name in
                     ('float16', 'float32', 'float64', 'int32', 'int64', 'uint8', 'bool')]
    return [np.ndarray, np.dtype, _NUMPY_MULTIARRAY._reconstruct, _NUMPY_MULTIARRAY.scalar,
            *dtype_classes]


def _history_buffer_state(buffer: HistoryBuffer) -> dict:
    state = dict(buffer.__dict__)
    state.pop('statistics_methods', None)
    return state


def allow_mmengine_checkpoint_globals() -> None:
    """Idempotent: allow-lists Runner checkpoint classes for ``torch.load(weights_only=True)``."""
    HistoryBuffer.__getstate__ = _history_buffer_state
    torch.serialization.add_safe_globals([HistoryBuffer, *_numpy_globals()])
