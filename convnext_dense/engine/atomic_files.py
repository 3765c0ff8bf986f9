"""Atomic writes for everything mmengine writes to local disk (checkpoints, ``last_checkpoint``,
result dumps): a temporary file beside the target, flushed and fsynced, then renamed over it.

mmengine 0.10.x's ``LocalBackend.put`` opens the target and writes into it, so a run killed or
out of disk mid-write leaves a truncated checkpoint under the final name, which ``--resume``
then picks. :func:`install_atomic_local_backend` registers :class:`AtomicLocalBackend` as
mmengine's ``local`` backend.
"""
import os
import os.path as osp
import tempfile
from pathlib import Path
from typing import Union

from mmengine.fileio.backends import LocalBackend, register_backend


def write_atomically(data: Union[bytes, str], path: Union[str, Path],
                     encoding: str = 'utf-8') -> None:
    """Writes ``data`` to ``path`` so that readers see the old file or the whole new one."""
    path = os.fspath(path)
    directory = osp.dirname(osp.abspath(path))
    os.makedirs(directory, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f'.{osp.basename(path)}.',
                                         suffix='.tmp')
    try:
        with os.fdopen(handle, 'wb') as stream:
            stream.write(data.encode(encoding) if isinstance(data, str) else data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        if osp.exists(temporary):
            os.remove(temporary)
        raise


class AtomicLocalBackend(LocalBackend):
    """mmengine's local storage backend with atomic ``put`` / ``put_text``."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        write_atomically(obj, filepath)

    def put_text(self, obj: str, filepath: Union[str, Path], encoding: str = 'utf-8') -> None:
        write_atomically(obj, filepath, encoding)


def install_atomic_local_backend() -> None:
    """Makes :class:`AtomicLocalBackend` the backend mmengine picks for local paths."""
    register_backend('local', AtomicLocalBackend, force=True, prefixes='')
