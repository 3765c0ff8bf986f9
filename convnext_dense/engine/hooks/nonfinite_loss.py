"""Stops the run (or skips the step) when the loss is NaN or infinite, before it reaches the
weights, and says where: iteration, loss terms, last good checkpoint.

mmengine applies the optimizer step inside ``model.train_step``, before any hook sees the
losses, so a NaN loss has already poisoned the weights by ``after_train_iter``. This hook
therefore guards the optimizer wrapper's ``update_params`` (whatever its class: plain, AMP):
a non-finite loss skips backward and step (on every rank, agreed by an all-reduce, so DDP
never waits for a rank that skipped). ``after_train_iter`` then names the culprit terms from
the logged losses, and in ``'stop'`` mode raises :class:`NonFiniteLossError`.
"""
import math
from typing import Optional

import torch
from mmengine.dist import all_reduce, is_distributed
from mmengine.hooks import Hook
from mmengine.logging import print_log

ACTIONS = ('stop', 'skip')


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite."""


class NonFiniteLossHook(Hook):
    """``action='stop'`` (default) raises at the first non-finite loss; ``'skip'`` drops that
    step's update, logs it and goes on (and still stops after ``max_skips`` in a row)."""

    priority = 'VERY_HIGH'

    def __init__(self, action: str = 'stop', max_skips: int = 10):
        if action not in ACTIONS:
            raise ValueError(f'NonFiniteLossHook action={action!r}: choose one of {ACTIONS}.')
        self.action = action
        self.max_skips = max_skips
        self.skipped_in_a_row = 0
        self.skipped_total = 0
        self._skipped_this_iter = False

    def before_train(self, runner) -> None:
        wrapper = runner.optim_wrapper
        update_params = wrapper.update_params

        def guarded_update_params(loss: torch.Tensor, *args, **kwargs):
            if self._all_ranks_finite(loss):
                return update_params(loss, *args, **kwargs)
            self._skipped_this_iter = True
            wrapper.zero_grad()

        wrapper.update_params = guarded_update_params

    @staticmethod
    def _all_ranks_finite(loss: torch.Tensor) -> bool:
        finite = torch.isfinite(loss.detach()).all().to(torch.int32).reshape(1)
        if is_distributed():
            all_reduce(finite, op='min')
        return bool(finite.item())

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        if not self._skipped_this_iter:
            self.skipped_in_a_row = 0
            return
        self._skipped_this_iter = False
        self.skipped_in_a_row += 1
        self.skipped_total += 1
        iteration = runner.iter + 1
        terms = sorted(k for k, v in (outputs or {}).items()
                       if isinstance(v, (int, float, torch.Tensor)) and not math.isfinite(float(v)))
        where = (f'Non-finite loss at iteration {iteration} (terms: {", ".join(terms) or "total"}); '
                 f'the weights were not updated. Last good checkpoint: '
                 f'{runner.message_hub.get_info("last_ckpt") or "none written yet"}.')
        if self.action == 'stop' or self.skipped_in_a_row > self.max_skips:
            raise NonFiniteLossError(where + (' Stopping (NonFiniteLossHook action=stop; '
                                              "'skip' drops such steps instead)."
                                              if self.action == 'stop' else
                                              f' {self.skipped_in_a_row} steps in a row: '
                                              f'stopping.'))
        print_log(where + f' Step skipped ({self.skipped_total} so far).', logger='current',
                  level=30)
