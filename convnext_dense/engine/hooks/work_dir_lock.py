"""One training at a time per work dir, and no debris from killed writes.

Two trainings on one work dir interleave their checkpoints and logs without a word; a write
killed mid-way (:func:`convnext_dense.fileio.write_atomically`) leaves its ``.<name>.*.tmp``
file behind. Before training, this hook takes ``<work_dir>/train.lock`` (the holder's host,
process id and process start: the boot and the start time since boot) and then removes those
temporary files, which no other process can be writing any more. A lock whose process is gone
is taken over, and so is one whose process id now belongs to another process (reused after a
reboot, or by another container); the lock is released after training.
"""
import glob
import os
import os.path as osp
import socket
from typing import Optional

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log

from ...errors import InputError
from ...fileio import write_atomically

LOCK_NAME = 'train.lock'


class WorkDirInUseError(InputError):
    """Another live process is training in the same work dir."""


def process_start(pid: int) -> Optional[str]:
    """``<boot id>/<start time in clock ticks since boot>`` of process ``pid`` (Linux), which
    no other process of any boot shares; None where ``/proc`` does not tell."""
    try:
        with open('/proc/sys/kernel/random/boot_id') as f:
            boot = f.read().strip()
        with open(f'/proc/{pid}/stat') as f:
            # The command name (field 2) may hold spaces and parentheses: count after it.
            fields = f.read().rsplit(')', 1)[1].split()
        return f'{boot}/{fields[19]}'
    except (OSError, IndexError):
        return None


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
        record = f'{socket.gethostname()} {os.getpid()} {process_start(os.getpid()) or "-"}\n'
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
                host, pid, *start = f.read().split()
            pid = int(pid)
        except (FileNotFoundError, ValueError):  # gone, or not written by a run of ours
            return
        if host != socket.gethostname():
            raise WorkDirInUseError(
                f'{work_dir} is locked by process {pid} on host {host} ({lock}); if no '
                f'training runs there any more, delete the lock file.')
        if pid == os.getpid() or not process_alive(pid):
            print_log(f'Taking over {lock}: its process {pid} has ended.', logger='current')
            return
        recorded = start[0] if start and start[0] != '-' else None
        if recorded is not None and process_start(pid) not in (None, recorded):
            print_log(f'Taking over {lock}: process {pid} is alive but is not the training '
                      f'that took the lock (it started at another time; its id was reused).',
                      logger='current')
            return
        raise WorkDirInUseError(
            f'{work_dir} is in use by another training (process {pid}, lock {lock}); '
            f'wait for it, stop it, or use another --work-dir.')

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
