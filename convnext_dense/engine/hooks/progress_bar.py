"""A progress bar over the test and validation loops (mmengine logs only every N iterations)."""
from typing import Optional

from mmengine.dist import get_world_size, is_main_process
from mmengine.hooks import Hook
from mmengine.utils import ProgressBar


class ProgressBarHook(Hook):
    """Shows ``[>>>   ] images done/total, images/s, elapsed, ETA`` on the main process while
    testing (and validating, if ``during_val``). ``tools/test.py`` adds it. In distributed runs
    the main process counts its own share times the world size."""

    priority = 'VERY_LOW'

    def __init__(self, during_val: bool = False):
        self.during_val = during_val
        self._bar: Optional[ProgressBar] = None

    def _start(self, runner, loader) -> None:
        if is_main_process():
            self._bar = ProgressBar(len(loader.dataset))

    def _advance(self, outputs) -> None:
        if self._bar is not None:
            images = len(outputs) if isinstance(outputs, (list, tuple)) else 1
            # Samplers pad the last distributed batch; never count past the dataset.
            step = min(images * get_world_size(), self._bar.task_num - self._bar.completed)
            if step > 0:
                self._bar.update(step)

    def _finish(self) -> None:
        if self._bar is not None:
            self._bar.file.write('\n')
            self._bar = None

    def before_test_epoch(self, runner) -> None:
        self._start(runner, runner.test_dataloader)

    def after_test_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self._advance(outputs)

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._finish()

    def before_val_epoch(self, runner) -> None:
        if self.during_val:
            self._start(runner, runner.val_dataloader)

    def after_val_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if self.during_val:
            self._advance(outputs)

    def after_val_epoch(self, runner, metrics=None) -> None:
        if self.during_val:
            self._finish()
