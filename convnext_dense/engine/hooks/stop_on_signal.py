"""A clean stop on SIGTERM, which schedulers (Slurm, Kubernetes) send before killing a job.

By default SIGTERM ends the main process at once: the current step is lost and data-loader
workers can outlive it. With this hook the run finishes its current iteration, an
iteration-based run saves a checkpoint of it through the config's ``CheckpointHook`` (same
folder, file backend and ``max_keep_ckpts``), and the run stops by raising :class:`RunStopped`;
the data-loader workers end with the process. ``tools/train.py`` then exits with status 143
(128 + SIGTERM), as a process killed by the signal would, and ``--resume`` continues.
"""
import signal
import threading

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook, Hook
from mmengine.logging import print_log

from ...errors import RunStopped


class StopOnSignalHook(Hook):
    """Turns SIGTERM during training into: finish the iteration, checkpoint it (iteration-based
    runs; epoch-based ones keep their last epoch checkpoint), raise :class:`RunStopped`. The
    previous handler is restored after training."""

    priority = 'LOWEST'  # after CheckpointHook, which may have saved this iteration already

    def __init__(self, signals=('SIGTERM', )):
        self.signals = [getattr(signal, name) for name in signals]
        self._previous, self._received = {}, None

    def before_train(self, runner) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # Python delivers signals to the main thread only; nothing to install
        for number in self.signals:
            self._previous[number] = signal.signal(number, self._note)

    def _note(self, number, frame) -> None:
        self._received = signal.Signals(number).name

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if self._received is None:
            return
        saved = self._checkpoint(runner)
        state = (f'checkpoint {saved} holds iteration {runner.iter + 1}' if saved else
                 'the last checkpoint the CheckpointHook wrote is the state to resume from')
        raise RunStopped(f'{self._received} received: stopped after iteration '
                         f'{runner.iter + 1}; {state}; continue with --resume.',
                         status=128 + getattr(signal, self._received))

    def after_train(self, runner) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous = {}

    @staticmethod
    def _checkpoint(runner):
        hook = next((h for h in runner.hooks if isinstance(h, CheckpointHook)), None)
        if hook is None or hook.by_epoch:
            return None
        step = runner.iter + 1
        path = hook.file_backend.join_path(hook.out_dir, hook.filename_tmpl.format(step))
        if runner.message_hub.get_info('last_ckpt') != path:  # not saved at this step yet
            # mmengine 0.10's own save path: keeps max_keep_ckpts and last_checkpoint right.
            hook._save_checkpoint_with_step(runner, step, meta=dict(epoch=runner.epoch,
                                                                     iter=step))
        if is_main_process():
            print_log(f'Checkpoint of iteration {step} saved before stopping: {path}',
                      logger='current')
        return path
