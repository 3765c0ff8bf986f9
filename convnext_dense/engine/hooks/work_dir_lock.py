"""One training at a time per work dir, and no debris from killed writes.

Two trainings on one work dir interleave their checkpoints and logs without a word; a write
killed mid-way (:func:`convnext_dense.fileio.write_atomically`) leaves its ``.<name>.*.tmp``
file behind. Before training, this hook takes ``<work_dir>/train.lock`` (the holder's host,
process id, process start: the boot and the start time since boot, and Slurm job id) and then
removes those temporary files, which no other process can be writing any more. A lock whose
process is gone is taken over, and so is one whose process id now belongs to another process
(reused after a reboot, or by another container), one of the same Slurm job (a requeued job
keeps its id and may start on another node), and any with ``take_over=True``
(``tools/train.py --take-over-lock``). The lock is released when the run ends, however it ends
(finished, stopped by a signal, crashed): only a killed process leaves it, to be taken over.

Rank 0 decides and every rank learns the decision: a refusal ends every rank with the same
line, so none trains on alone or waits for a rank that left.
"""
import atexit
import glob
import os
import os.path as osp
import socket
from typing import Optional

from mmengine.hooks import Hook
from mmengine.logging import print_log

from ...errors import InputError
from ...fileio import write_atomically
from ..distributed import decided_on_rank_zero

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


def slurm_job() -> str:
    """The Slurm job id of this process (kept when Slurm requeues the job), '-' outside Slurm."""
    return os.environ.get('SLURM_JOB_ID', '-')


def stale_temporary_files(work_dir: str):
    """Temporary files of :func:`~convnext_dense.fileio.write_atomically` in ``work_dir``."""
    return sorted(glob.glob(osp.join(glob.escape(work_dir), '.*.tmp')))


class WorkDirLockHook(Hook):
    """Before training (decided by rank 0, for every rank): refuses to start if a live process
    holds the work dir's lock (:class:`WorkDirInUseError` naming its host and pid), else takes
    it and removes stale temporary files; releases the lock when the run ends. A lock held by a
    process of another host cannot be checked: it is refused with the lock's path to delete by
    hand, unless it is this Slurm job's own (requeued) or ``take_over`` is set."""

    priority = 'VERY_HIGH'

    def __init__(self, take_over: bool = False):
        self.take_over = take_over
        self._lock: Optional[str] = None
        self._record = ''

    def before_train(self, runner) -> None:
        decided_on_rank_zero(lambda: self._take(runner.work_dir))

    def _take(self, work_dir: str) -> None:
        lock = osp.join(work_dir, LOCK_NAME)
        record = (f'{socket.gethostname()} {os.getpid()} {process_start(os.getpid()) or "-"} '
                  f'{slurm_job()}\n')
        try:  # exclusive creation: of two runs starting together, one gets the lock
            with open(lock, 'x') as f:
                f.write(record)
        except FileExistsError:
            self._refuse_if_held(lock, work_dir)
            write_atomically(record, lock)
        self._lock, self._record = lock, record
        atexit.register(self._release)
        self._remove_stale_files(work_dir)

    def _refuse_if_held(self, lock: str, work_dir: str) -> None:
        try:
            with open(lock) as f:
                host, pid, *rest = f.read().split()
            pid = int(pid)
        except (FileNotFoundError, ValueError):  # gone, or not written by a run of ours
            return
        start, job = (rest + ['-', '-'])[:2]
        if self.take_over:
            print_log(f'Taking over {lock} of process {pid} on {host} (take_over=True).',
                      logger='current')
            return
        if job != '-' and job == slurm_job():
            print_log(f'Taking over {lock}: it is this Slurm job\'s ({job}), from before it '
                      f'was requeued.', logger='current')
            return
        if host != socket.gethostname():
            raise WorkDirInUseError(
                f'{work_dir} is locked by process {pid} on host {host} ({lock}); if no '
                f'training runs there any more, delete the lock file or pass '
                f'--take-over-lock.')
        if pid == os.getpid() or not process_alive(pid):
            print_log(f'Taking over {lock}: its process {pid} has ended.', logger='current')
            return
        if start != '-' and process_start(pid) not in (None, start):
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

    def _release(self) -> None:
        """Removes the lock if it is still the one this run wrote (another run may have taken
        it over since)."""
        if self._lock is None:
            return
        lock, self._lock = self._lock, None
        atexit.unregister(self._release)
        try:
            with open(lock) as f:
                ours = f.read() == self._record
            if ours:
                os.remove(lock)
        except FileNotFoundError:
            pass

    def after_train(self, runner) -> None:
        self._release()
