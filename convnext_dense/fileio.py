"""Atomic writes: readers see the old file (or no directory) or the whole new one, never a part.

:func:`write_atomically` (files: checkpoints, converted weights, reports, JSON),
:func:`create_directory_atomically` (the toy datasets) and :class:`AtomicLocalBackend`, the
mmengine file backend that checkpoints are written through when a config asks for it with
``default_hooks.checkpoint.backend_args = dict(backend='atomic_local')`` (our runtime bases do).
mmengine 0.10.x's own ``LocalBackend.put`` opens the target and writes into it, so a run killed
or out of disk mid-write leaves a truncated checkpoint under the final name, which a resume then
picks. The backend is registered under its own name; mmengine's ``local`` backend is unchanged.
"""
import io
import os
import os.path as osp
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Union

import torch
from mmengine.fileio.backends import LocalBackend, register_backend

from .errors import InputError

ATOMIC_BACKEND = 'atomic_local'


class WriteFailedError(InputError, OSError):
    """A write that failed (disk full, file-size limit, permissions); the file it was to
    replace, if any, is unchanged."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomically(data: Union[bytes, str], path: Union[str, Path],
                     encoding: str = 'utf-8') -> None:
    """Writes ``data`` to ``path`` through a temporary file beside it (flushed, fsynced, then
    renamed over ``path``). An ``OSError`` becomes :class:`WriteFailedError` naming ``path``;
    the temporary file is removed."""
    path = os.fspath(path)
    directory = osp.dirname(osp.abspath(path))
    os.makedirs(directory, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f'.{osp.basename(path)}.',
                                         suffix='.tmp')
    try:
        # mkstemp creates the file private (0600); give it the mode open() would.
        os.fchmod(handle, 0o666 & ~_umask())
        with os.fdopen(handle, 'wb') as stream:
            stream.write(data.encode(encoding) if isinstance(data, str) else data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException as error:
        if osp.exists(temporary):
            os.remove(temporary)
        if isinstance(error, OSError) and not isinstance(error, WriteFailedError):
            kept = 'the previous file is unchanged' if osp.exists(path) else 'nothing was written'
            raise WriteFailedError(f'writing {path} failed ({error.strerror or error}); '
                                   f'{kept}.') from None
        raise


def save_torch_atomically(obj, path: Union[str, Path]) -> None:
    """``torch.save(obj, path)`` through :func:`write_atomically`."""
    with io.BytesIO() as buffer:
        torch.save(obj, buffer)
        write_atomically(buffer.getvalue(), path)


def create_directory_atomically(target: str, fill: Callable[[str], None]) -> str:
    """Calls ``fill(staging_dir)`` in a temporary sibling of ``target`` and renames the result
    to ``target``, unless ``target`` exists already (then nothing is written). Concurrent
    writers (every torchrun worker generating the toy data) and interrupted runs therefore
    never expose a half-written directory. Returns ``target``."""
    if osp.isdir(target):
        return target
    parent = osp.dirname(osp.abspath(target))
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(dir=parent, prefix=f'.{osp.basename(target)}.')
    try:
        fill(staging)
        os.rename(staging, target)
    except OSError:
        if not osp.isdir(target):  # a real failure, not another writer winning the race
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


class AtomicLocalBackend(LocalBackend):
    """mmengine's local storage backend with atomic ``put`` / ``put_text``. A failed ``put``
    (checkpoints) also names the newest complete checkpoint beside the file, still intact."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        try:
            write_atomically(obj, filepath)
        except WriteFailedError as error:
            from .engine.checkpoint_integrity import latest_complete_checkpoint
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
