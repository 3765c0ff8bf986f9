"""Carries the torch random state through checkpoints, so a resumed run draws what an
uninterrupted one would have drawn.

What the data pipeline draws (numpy / ``random``, in loader workers or not) is reproduced by
mmengine itself: a resumed run is seeded as the original was and replays the sampler and
pipeline over the iterations it skips. What the model draws (torch: RPN / RoI sampling,
stochastic depth, dropout) is not replayed, so this hook stores the torch (and CUDA) generator
states with each checkpoint and restores them just before the first iteration after a resume,
after the replay.

mmengine's ``resume`` loads checkpoints with ``map_location=get_device()``, so on a GPU the
saved states arrive as CUDA tensors, while every generator (CUDA's included) takes its state as
a CPU ``ByteTensor`` only: :func:`restore_rng_states` moves them back first.
"""
from types import ModuleType
from typing import Optional

import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log

CHECKPOINT_KEY = 'torch_rng_state'


def saved_rng_states(cuda: ModuleType = torch.cuda) -> dict:
    """The CPU generator's state and, where CUDA is initialised, each visible GPU's."""
    state = dict(cpu=torch.get_rng_state())
    if cuda.is_available():
        state['cuda'] = cuda.get_rng_state_all()
    return state


def restore_rng_states(state: dict, cuda: ModuleType = torch.cuda) -> None:
    """Sets the generators from :func:`saved_rng_states`' ``state``, whatever device its tensors
    were loaded to. CUDA states are restored for the GPUs present: a run resumed with fewer (or
    more) visible GPUs than it saved restores the first ones and says so."""
    torch.set_rng_state(state['cpu'].cpu())
    saved = state.get('cuda')
    if not saved or not cuda.is_available():
        return
    present = cuda.device_count()
    if present != len(saved):
        print_log(f'Resume: the checkpoint holds the random states of {len(saved)} GPUs and '
                  f'{present} are visible; restoring the first {min(present, len(saved))}; any '
                  f'other keeps its seeded state.', logger='current', level=30)
    for index, device_state in enumerate(saved[:present]):
        cuda.set_rng_state(device_state.cpu(), index)


class RngStateHook(Hook):
    """Saves the torch (and CUDA) generator states in checkpoints; restores them on resume,
    before the first iteration after the replay."""

    priority = 'VERY_HIGH'

    def __init__(self):
        self._pending: Optional[dict] = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint[CHECKPOINT_KEY] = saved_rng_states()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._pending = checkpoint.get(CHECKPOINT_KEY)

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if self._pending is None:
            return
        restore_rng_states(self._pending)
        self._pending = None
