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
first within seconds, and an impatient user presses Ctrl-C again.
"""
import signal
import threading

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook, Hook
from mmengine.logging import print_log

from ...errors import RunStopped


class StopOnSignalHook(Hook):
    """Turns a signal of ``signals`` during training into: finish the iteration (or the
    validation batch), checkpoint the last finished iteration (iteration-based runs;
    epoch-based ones keep their last epoch checkpoint), raise :class:`RunStopped`. A second
    signal raises it at once. The previous handlers are restored after training."""

    priority = 'LOWEST'  # after CheckpointHook, which may have saved this iteration already

    def __init__(self, signals=('SIGTERM', 'SIGINT')):
        self.signals = [getattr(signal, name) for name in signals]
        self._previous, self._received, self._runner = {}, None, None

    def before_train(self, runner) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # Python delivers signals to the main thread only; nothing to install
        self._runner = runner
        for number in self.signals:
            self._previous[number] = signal.signal(number, self._note)

    def _note(self, number, frame) -> None:
        name = signal.Signals(number).name
        if self._received is None:
            self._received = name
            return
        last = self._runner.message_hub.get_info('last_ckpt') if self._runner else None
        raise RunStopped(f'{name} received after {self._received}: stopped at once, '
                         f'mid-step; resume from the last checkpoint '
                         f'({last or "none written yet"}) with --resume.',
                         status=128 + number)

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if self._received is not None:
            self._stop(runner, step=runner.iter + 1, where='')

    def after_val_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        # A validation inside training runs after iteration runner.iter (already counted).
        if self._received is not None and self._previous:
            self._stop(runner, step=runner.iter, where=' in the validation')

    def _stop(self, runner, step: int, where: str) -> None:
        saved = self._checkpoint(runner, step)
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
