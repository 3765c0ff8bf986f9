"""Atomic writes: readers see the old file (or no directory) or the whole new one, never a part.

:func:`write_atomically` (files: checkpoints, converted weights, reports, JSON, the work-dir
lock) and :func:`create_directory_atomically` (the toy datasets). Checkpoints are written through
them by :mod:`convnext_dense.checkpoint.saving`.
"""
import os
import os.path as osp
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Union


from .errors import InputError

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
