"""Carries the torch random state through checkpoints, so a resumed run draws what an
uninterrupted one would have drawn.

What the data pipeline draws (numpy / ``random``, in loader workers or not) is reproduced by
mmengine itself: a resumed run is seeded as the original was and replays the sampler and
pipeline over the iterations it skips. What the model draws (torch: RPN / RoI sampling,
stochastic depth, dropout) is not replayed, so this hook stores the torch (and CUDA) generator
states with each checkpoint and restores them just before the first iteration after a resume,
after the replay.
"""
from typing import Optional

import torch
from mmengine.hooks import Hook

CHECKPOINT_KEY = 'torch_rng_state'


class RngStateHook(Hook):
    """Saves ``torch.get_rng_state()`` (and CUDA's) in checkpoints; restores them on resume."""

    priority = 'VERY_HIGH'

    def __init__(self):
        self._pending: Optional[dict] = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        state = dict(cpu=torch.get_rng_state())
        if torch.cuda.is_available():
            state['cuda'] = torch.cuda.get_rng_state_all()
        checkpoint[CHECKPOINT_KEY] = state

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._pending = checkpoint.get(CHECKPOINT_KEY)

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if self._pending is None:
            return
        torch.set_rng_state(self._pending['cpu'])
        if 'cuda' in self._pending and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(self._pending['cuda'])
        self._pending = None
