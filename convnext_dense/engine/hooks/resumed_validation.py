"""The validation a resumed run would otherwise skip.

mmengine saves the last checkpoint before the final validation. A run killed during that
validation and resumed finds its loop already at ``max_iters`` / ``max_epochs``, trains nothing,
and ends with exit 0 and no metrics: the final model is never evaluated.
"""
from mmengine.hooks import Hook
from mmengine.logging import print_log


class ResumedValidationHook(Hook):
    """Runs the validation loop once at the end of a run that resumed at its last training
    iteration (so trained nothing) and has a validation loop."""

    priority = 'LOWEST'

    def before_train(self, runner) -> None:
        self._start_iter = runner.iter

    def after_train(self, runner) -> None:
        if runner.iter == 0 or runner.iter != self._start_iter or runner.val_loop is None:
            return
        print_log(f'Resumed at the end of training (iteration {runner.iter}): running the '
                  f'final validation, which the earlier run did not finish.', logger='current')
        runner.val_loop.run()
