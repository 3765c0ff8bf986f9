"""A clean stop on SIGTERM, which schedulers (Slurm, Kubernetes) send before killing a job, and
on SIGINT (Ctrl-C), a user's deliberate stop.

By default SIGTERM ends the main process at once and SIGINT raises ``KeyboardInterrupt``
wherever the run is: the current step is lost, the user sees a crash, and data-loader workers
can outlive the process. With this hook the run finishes its current training iteration (or,
in a validation, the current validation batch), an iteration-based run saves a checkpoint of
its last finished iteration through the config's ``CheckpointHook`` (same folder, file backend
and ``max_keep_ckpts``), and the run stops by raising :class:`RunStopped`; the data-loader
workers end with the process. ``tools/train.py`` then exits with status 128 + the signal's
number (143 for SIGTERM, 130 for SIGINT), as a process killed by it would, and ``--resume``
continues. A second signal stops the run at once, mid-step: a scheduler's SIGKILL follows the
first within seconds, and an impatient user presses Ctrl-C again. (One within
:data:`REPEAT_WINDOW_S` of the first is the same request delivered twice, as a launcher that
forwards the signal to a group that already had it does.)

On several ranks the stop is decided together: whichever rank a signal reached (torchrun
signals each worker, Slurm every task, ``kill`` one), every rank learns it at the end of the
same iteration (a maximum over ranks on the host), so all stop after that iteration, join in
one checkpoint and exit with the same status; none waits in a collective for a rank that left.
The data-loader workers are kept out of the signalled process group
(:func:`leave_stop_signals_to_the_main_process`): the main process decides, and the workers end
with it.
"""
import ctypes
import os
import signal
import sys
import threading
import time
from typing import Callable, Optional

from mmengine.dist import is_distributed, is_main_process
from mmengine.hooks import CheckpointHook, Hook
from mmengine.logging import print_log

from ...errors import RunStopped
from ..distributed import max_over_ranks, same_on_every_rank

REPEAT_WINDOW_S = 2.0
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def leave_stop_signals_to_the_main_process(worker_id: int, main_pid: int,
                                           worker_init_fn: Optional[Callable] = None) -> None:
    """A data-loader worker's start (then ``worker_init_fn``'s), on Linux: the worker leaves its
    main process's process group for one of its own, so the signals schedulers, torchrun and
    Ctrl-C send to that group reach the main process, which finishes its step, and not the
    worker, which would die under it. Out of the group, a worker would outlive a main process
    killed with it (``kill -9`` of the group, torchrun's last resort): the kernel kills the
    worker when its main process ends (``PR_SET_PDEATHSIG``)."""
    if sys.platform.startswith('linux'):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL) == 0:
            if os.getppid() != main_pid:  # it ended before the request took effect
                os._exit(0)
            os.setpgid(0, 0)
    if worker_init_fn is not None:
        worker_init_fn(worker_id)


class StopOnSignalHook(Hook):
    """Turns a signal of ``signals`` during training into: finish the iteration (or the
    validation batch), checkpoint the last finished iteration (iteration-based runs;
    epoch-based ones keep their last epoch checkpoint), raise :class:`RunStopped`. A second
    signal raises it at once. The previous handlers are restored after training."""

    priority = 'LOWEST'  # after CheckpointHook, which may have saved this iteration already

    def __init__(self, signals=('SIGTERM', 'SIGINT')):
        self.signals = [getattr(signal, name) for name in signals]
        self._previous, self._received, self._runner = {}, None, None
        self._received_at = 0.0
        self._val_in_step = False

    def before_train(self, runner) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # Python delivers signals to the main thread only; nothing to install
        self._runner = runner
        for number in self.signals:
            self._previous[number] = signal.signal(number, self._note)

    def _note(self, number, frame) -> None:
        name = signal.Signals(number).name
        if self._received is None:
            self._received, self._received_at = name, time.monotonic()
            return
        if time.monotonic() - self._received_at < REPEAT_WINDOW_S:
            return  # the first signal, delivered again
        last = self._runner.message_hub.get_info('last_ckpt') if self._runner else None
        raise RunStopped(f'{name} received after {self._received}: stopped at once, '
                         f'mid-step; resume from the last checkpoint '
                         f'({last or "none written yet"}) with --resume.',
                         status=128 + number)

    def _received_on_any_rank(self) -> bool:
        """Whether a signal reached this rank or (in a distributed run) any other; the one
        with the largest number decides the status where ranks got different ones."""
        local = getattr(signal, self._received) if self._received else 0
        number = max_over_ranks(local)
        if number and number != local:
            self._received = signal.Signals(number).name
        return bool(number)

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if self._previous and self._received_on_any_rank():
            self._stop(runner, step=runner.iter + 1, where='')

    def before_val_epoch(self, runner) -> None:
        # Ranks agree after each validation batch only if they run as many batches (mmengine's
        # DefaultSampler pads every rank's share to the same length); else at the end.
        self._val_in_step = bool(self._previous) and (
            not is_distributed() or same_on_every_rank(len(runner.val_loop.dataloader)))

    def after_val_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        # A validation inside training runs after iteration runner.iter (already counted).
        if self._val_in_step and self._received_on_any_rank():
            self._stop(runner, step=runner.iter, where=' in the validation')

    def _stop(self, runner, step: int, where: str) -> None:
        saved = self._checkpoint(runner, step)
        # Saved and on the way out. A launcher that sees one rank leave first signals the
        # others, which must still end with the status they decided on; a single process gets
        # its previous handlers back (a notebook's Ctrl-C).
        for number, handler in self._previous.items():
            signal.signal(number, signal.SIG_IGN if is_distributed() else handler)
        self._previous = {}
        state = (f'checkpoint {saved} holds iteration {step}' if saved else
                 'the last checkpoint the CheckpointHook wrote is the state to resume from')
        raise RunStopped(f'{self._received} received: stopped{where} after iteration {step}; '
                         f'{state}; continue with --resume.',
                         status=128 + getattr(signal, self._received))

    def after_train(self, runner) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous, self._runner = {}, None

    @staticmethod
    def _checkpoint(runner, step: int):
        hook = next((h for h in runner.hooks if isinstance(h, CheckpointHook)), None)
        if hook is None or hook.by_epoch:
            return None
        path = hook.file_backend.join_path(hook.out_dir, hook.filename_tmpl.format(step))
        if runner.message_hub.get_info('last_ckpt') != path:  # not saved at this step yet
            # mmengine 0.10's own save path: keeps max_keep_ckpts and last_checkpoint right.
            hook._save_checkpoint_with_step(runner, step, meta=dict(epoch=runner.epoch,
                                                                     iter=step))
        if is_main_process():
            print_log(f'Checkpoint of iteration {step} saved before stopping: {path}',
                      logger='current')
        return path
