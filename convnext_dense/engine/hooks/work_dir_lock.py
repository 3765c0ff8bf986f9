"""One training at a time per work dir, and no debris from killed writes.

Two trainings on one work dir interleave their checkpoints and logs without a word; a write
killed mid-way (:func:`convnext_dense.fileio.write_atomically`) leaves its ``.<name>.*.tmp``
file behind. Before training, this hook takes ``<work_dir>/train.lock`` (the holder's host and
process id) and then removes those temporary files, which no other process can be writing
any more. A lock whose process is gone is taken over; the lock is released after training.
"""
import glob
import os
import os.path as osp
import socket

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log

from ...errors import InputError
from ...fileio import write_atomically

LOCK_NAME = 'train.lock'


class WorkDirInUseError(InputError):
    """Another live process is training in the same work dir."""


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


def stale_temporary_files(work_dir: str):
    """Temporary files of :func:`~convnext_dense.fileio.write_atomically` in ``work_dir``."""
    return sorted(glob.glob(osp.join(glob.escape(work_dir), '.*.tmp')))


class WorkDirLockHook(Hook):
    """Before training (main process): refuses to start if a live process holds the work
    dir's lock (:class:`WorkDirInUseError` naming its host and pid), else takes it and removes
    stale temporary files; releases the lock after training. A lock held by a process of
    another host cannot be checked: it is refused with the lock's path to delete by hand."""

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        self._lock = None
        if not is_main_process():
            return
        lock = osp.join(runner.work_dir, LOCK_NAME)
        record = f'{socket.gethostname()} {os.getpid()}\n'
        try:  # exclusive creation: of two runs starting together, one gets the lock
            with open(lock, 'x') as f:
                f.write(record)
        except FileExistsError:
            self._refuse_if_held(lock, runner.work_dir)
            write_atomically(record, lock)
        self._lock = lock
        self._remove_stale_files(runner.work_dir)

    @staticmethod
    def _refuse_if_held(lock: str, work_dir: str) -> None:
        try:
            with open(lock) as f:
                host, pid = f.read().split()
            pid = int(pid)
        except (FileNotFoundError, ValueError):  # gone, or not written by a run of ours
            return
        if host != socket.gethostname():
            raise WorkDirInUseError(
                f'{work_dir} is locked by process {pid} on host {host} ({lock}); if no '
                f'training runs there any more, delete the lock file.')
        if pid != os.getpid() and process_alive(pid):
            raise WorkDirInUseError(
                f'{work_dir} is in use by another training (process {pid}, lock {lock}); '
                f'wait for it, stop it, or use another --work-dir.')
        print_log(f'Taking over {lock}: its process {pid} has ended.', logger='current')

    @staticmethod
    def _remove_stale_files(work_dir: str) -> None:
        stale = stale_temporary_files(work_dir)
        if not stale:
            return
        size = sum(osp.getsize(path) for path in stale)
        for path in stale:
            os.remove(path)
        print_log(f'Removed {len(stale)} temporary file(s) ({size / 2**20:.1f} MB) left by '
                  f'interrupted checkpoint writes in {work_dir}.', logger='current')

    def after_train(self, runner) -> None:
        if self._lock and osp.exists(self._lock):
            os.remove(self._lock)
