"""Checkpoints written atomically, so that a run killed or out of disk mid-write never leaves
a truncated checkpoint under the final name (which a resume would then pick).

:class:`AtomicLocalBackend` is the mmengine file backend checkpoints are written through when a
config asks for it with ``default_hooks.checkpoint.backend_args = dict(backend='atomic_local')``
(our runtime bases do): mmengine 0.10.x's own ``LocalBackend.put`` opens the target and writes
into it. The backend is registered under its own name; mmengine's ``local`` backend is
unchanged. Converted weights are written by :func:`save_state_dict_atomically`.
"""
import io
import os.path as osp
from pathlib import Path
from typing import Union

import torch
from mmengine.fileio.backends import LocalBackend, register_backend

from ..fileio import WriteFailedError, write_atomically
from .integrity import latest_complete_checkpoint
from .layouts import StateDict

ATOMIC_BACKEND = 'atomic_local'


def save_torch_atomically(obj, path: Union[str, Path]) -> None:
    """``torch.save(obj, path)`` through :func:`write_atomically`."""
    with io.BytesIO() as buffer:
        torch.save(obj, buffer)
        write_atomically(buffer.getvalue(), path)


class AtomicLocalBackend(LocalBackend):
    """mmengine's local storage backend with atomic ``put`` / ``put_text``. A failed ``put``
    (checkpoints) also names the newest complete checkpoint beside the file, still intact."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        try:
            write_atomically(obj, filepath)
        except WriteFailedError as error:
            kept = latest_complete_checkpoint(osp.dirname(osp.abspath(filepath)))
            if kept is None:
                raise
            raise WriteFailedError(f'{error} The newest complete checkpoint, {kept}, is '
                                   f'intact: --resume continues from it.') from None

    def put_text(self, obj: str, filepath: Union[str, Path], encoding: str = 'utf-8') -> None:
        write_atomically(obj, filepath, encoding)


def register_atomic_backend() -> None:
    """Idempotent: makes ``backend_args=dict(backend='atomic_local')`` pick
    :class:`AtomicLocalBackend` (no path prefix is taken over)."""
    register_backend(ATOMIC_BACKEND, AtomicLocalBackend, force=True)


def save_state_dict_atomically(state: StateDict, path: str, meta: dict) -> None:
    """Writes ``{'state_dict': state, 'meta': meta}`` atomically (see :func:`write_atomically`)."""
    save_torch_atomically({'state_dict': state, 'meta': meta}, path)
