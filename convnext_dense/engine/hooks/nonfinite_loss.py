"""Keeps NaN / inf losses from reaching the weights, and stops a run that has diverged, saying
where: iteration, loss terms or loss scale, last good checkpoint.

Two policies, by the optimizer wrapper the run has:

* **Without a dynamic loss scaler** (fp32, bf16 autocast without scaling): mmengine applies the
  optimizer step inside ``model.train_step``, before any hook sees the losses, so this hook
  guards the wrapper's ``update_params``: a non-finite loss skips backward and step (on every
  rank, agreed by an all-reduce, so DDP never waits for a rank that skipped). ``'stop'``
  raises :class:`NonFiniteLossError` at the first one; ``'skip'`` drops such steps and stops
  after ``max_skips`` in a row. Deciding before the step reads the loss on the host each
  iteration.
* **With a dynamic loss scaler** (mmengine's ``AmpOptimWrapper``, ``loss_scale='dynamic'``,
  every fp16 paper config): overflowing steps are expected there; the scaler skips them itself
  and halves the scale. The hook lets it: it counts non-finite losses on the device (no host
  read) and, every ``check_interval`` iterations, stops the run only if the losses stayed
  non-finite for ``max_skips`` iterations in a row or the scale fell below
  ``min_loss_scale`` (fp16 gradients overflowing whatever the scale: diverged).

``action='auto'`` (the configs' default) picks the second policy where a dynamic loss scaler is
present and ``'stop'`` elsewhere.
"""
import math
from typing import Optional

import torch
from mmengine.dist import all_reduce, is_distributed
from mmengine.hooks import Hook
from mmengine.logging import print_log

ACTIONS = ('auto', 'stop', 'skip')


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite (or the loss scale collapsed)."""


def dynamic_loss_scaler(optim_wrapper) -> Optional[object]:
    """The wrapper's enabled ``GradScaler`` if it scales dynamically (mmengine sets a fixed
    scale each step when ``loss_scale`` is a number), else None."""
    scaler = getattr(optim_wrapper, 'loss_scaler', None)
    if scaler is None or not scaler.is_enabled():
        return None
    if getattr(optim_wrapper, '_scale_update_param', None) is not None:
        return None
    return scaler


class NonFiniteLossHook(Hook):
    """See the module docstring. Args: ``action`` ('auto', 'stop', 'skip'); ``max_skips``:
    non-finite iterations in a row that stop a run in 'skip' mode or under a loss scaler;
    ``min_loss_scale``: a dynamic scale below this stops the run; ``check_interval``:
    iterations between the host reads of the scaled policy."""

    priority = 'VERY_HIGH'

    def __init__(self, action: str = 'auto', max_skips: int = 10,
                 min_loss_scale: float = 1e-4, check_interval: int = 20):
        if action not in ACTIONS:
            raise ValueError(f'NonFiniteLossHook action={action!r}: choose one of {ACTIONS}.')
        self.action = action
        self.max_skips = max_skips
        self.min_loss_scale = min_loss_scale
        self.check_interval = check_interval
        self.skipped_in_a_row = 0
        self.skipped_total = 0
        self._skipped_this_iter = False
        self._scaler = None
        self._streak: Optional[torch.Tensor] = None
        self._longest_streak: Optional[torch.Tensor] = None

    def before_train(self, runner) -> None:
        wrapper = runner.optim_wrapper
        self._scaler = dynamic_loss_scaler(wrapper) if self.action == 'auto' else None
        update_params = wrapper.update_params
        if self._scaler is not None:

            def counted_update_params(loss: torch.Tensor, *args, **kwargs):
                self._count_on_device(loss)
                return update_params(loss, *args, **kwargs)

            wrapper.update_params = counted_update_params
            return

        def guarded_update_params(loss: torch.Tensor, *args, **kwargs):
            if self._all_ranks_finite(loss):
                return update_params(loss, *args, **kwargs)
            self._skipped_this_iter = True
            wrapper.zero_grad()

        wrapper.update_params = guarded_update_params

    def _count_on_device(self, loss: torch.Tensor) -> None:
        finite = torch.isfinite(loss.detach()).all()
        if self._streak is None:
            self._streak = torch.zeros((), dtype=torch.int32, device=loss.device)
            self._longest_streak = torch.zeros_like(self._streak)
        self._streak = torch.where(finite, 0, self._streak + 1)
        self._longest_streak = torch.maximum(self._longest_streak, self._streak)

    @staticmethod
    def _all_ranks_finite(loss: torch.Tensor) -> bool:
        finite = torch.isfinite(loss.detach()).all().to(torch.int32).reshape(1)
        if is_distributed():
            all_reduce(finite, op='min')
        return bool(finite.item())

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        if self._scaler is not None:
            if self.every_n_train_iters(runner, self.check_interval) or self.is_last_train_iter(
                    runner):
                self._check_scaled_run(runner)
            return
        if not self._skipped_this_iter:
            self.skipped_in_a_row = 0
            return
        self._skipped_this_iter = False
        self.skipped_in_a_row += 1
        self.skipped_total += 1
        terms = sorted(k for k, v in (outputs or {}).items()
                       if isinstance(v, (int, float, torch.Tensor)) and not math.isfinite(float(v)))
        where = (f'Non-finite loss at iteration {runner.iter + 1} (terms: '
                 f'{", ".join(terms) or "total"}); the weights were not updated. '
                 f'{_last_checkpoint(runner)}')
        if self.action != 'skip' or self.skipped_in_a_row > self.max_skips:
            raise NonFiniteLossError(where + (f' Stopping (NonFiniteLossHook action='
                                              f"{self.action}; 'skip' drops such steps "
                                              'instead).' if self.action != 'skip' else
                                              f' {self.skipped_in_a_row} steps in a row: '
                                              f'stopping.'))
        print_log(where + f' Step skipped ({self.skipped_total} so far).', logger='current',
                  level=30)

    def _check_scaled_run(self, runner) -> None:
        """The one host read of the scaled policy: the longest run of non-finite losses since
        the last check (the largest over ranks) and the loss scale."""
        if self._longest_streak is None:
            return
        longest = self._longest_streak.reshape(1).clone()
        if is_distributed():
            all_reduce(longest, op='max')
        longest, scale = int(longest.item()), float(self._scaler.get_scale())
        self._longest_streak.zero_().add_(self._streak)
        iteration = runner.iter + 1
        if longest >= self.max_skips:
            raise NonFiniteLossError(
                f'Non-finite losses for {longest} iterations in a row by iteration {iteration} '
                f'(loss scale now {scale:g}); the scaler skipped those updates. '
                f'{_last_checkpoint(runner)} Stopping (NonFiniteLossHook max_skips='
                f'{self.max_skips}).')
        if scale < self.min_loss_scale:
            raise NonFiniteLossError(
                f'The loss scale fell to {scale:g} by iteration {iteration}, below '
                f'min_loss_scale={self.min_loss_scale:g}: the gradients overflow whatever the '
                f'scale. {_last_checkpoint(runner)} Stopping.')


def _last_checkpoint(runner) -> str:
    return (f'Last good checkpoint: '
            f'{runner.message_hub.get_info("last_ckpt") or "none written yet"}.')
