"""Carries the torch random state through checkpoints, so a resumed run draws what an
uninterrupted one would have drawn.

What the data pipeline draws (numpy / ``random``, in loader workers or not) is reproduced by
mmengine itself: a resumed run is seeded as the original was and replays the sampler and
pipeline over the iterations it skips. What the model draws (torch: RPN / RoI sampling,
stochastic depth, dropout) is not replayed, so this hook stores the torch (and CUDA) generator
states with each checkpoint and restores them just before the first iteration after a resume,
after the replay.

Every rank draws from its own stream (the configs seed each rank differently, as the official
ConvNeXt code and timm do), but only rank 0 writes checkpoints: ``runner.save_checkpoint``,
which every rank calls and rank 0 alone carries out, first gathers the states of all ranks, and
on resume each rank restores its own. A run resumed with another number of ranks restores the
states of the ranks both runs have and says so in one line.

mmengine's ``resume`` loads checkpoints with ``map_location=get_device()``, so on a GPU the
saved states arrive as CUDA tensors, while every generator (CUDA's included) takes its state as
a CPU ``ByteTensor`` only: :func:`restore_rng_states` moves them back first.
"""
from types import ModuleType
from typing import Optional

import torch
from mmengine.dist import get_dist_info
from mmengine.hooks import Hook
from mmengine.logging import print_log

from ..distributed import gathered

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


def state_of_rank(saved: dict, rank: int, world_size: int) -> Optional[dict]:
    """The generator states rank ``rank`` of ``world_size`` restores from a checkpoint's
    ``saved`` states (None: it keeps its seeded state). Checkpoints of earlier versions hold
    one state, rank 0's, for every rank."""
    per_rank = saved['ranks'] if 'ranks' in saved else [saved]
    if rank == 0 and len(per_rank) != world_size:
        common = min(len(per_rank), world_size)
        rest = ('the others keep their seeded states' if world_size > common else
                'the states of the ranks this run lacks are dropped')
        print_log(f'Resume: the checkpoint holds the random states of {len(per_rank)} '
                  f'rank(s) and this run has {world_size}; ranks 0-{common - 1} restore '
                  f'theirs, {rest}.', logger='current', level=30)
    return per_rank[rank] if rank < len(per_rank) else None


class RngStateHook(Hook):
    """Saves every rank's torch (and CUDA) generator states in checkpoints; on resume each
    rank restores its own, before the first iteration after the replay.

    The states are gathered when ``runner.save_checkpoint`` is called, which mmengine's
    ``CheckpointHook`` (and so every checkpoint of a run) does on every rank: a call on rank 0
    alone would wait for the others."""

    priority = 'VERY_HIGH'

    def __init__(self):
        self._pending: Optional[dict] = None
        self._gathered: Optional[list] = None

    def before_train(self, runner) -> None:
        runner.__dict__.pop('save_checkpoint', None)  # wrapped by an earlier train()
        save_checkpoint = runner.save_checkpoint

        def save_checkpoint_with_every_ranks_states(*args, **kwargs):
            self._gathered = gathered(saved_rng_states())
            try:
                return save_checkpoint(*args, **kwargs)
            finally:
                self._gathered = None

        runner.save_checkpoint = save_checkpoint_with_every_ranks_states

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint[CHECKPOINT_KEY] = dict(ranks=self._gathered or [saved_rng_states()])

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        saved = checkpoint.get(CHECKPOINT_KEY)
        self._pending = None if saved is None else state_of_rank(saved, *get_dist_info())

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if self._pending is None:
            return
        restore_rng_states(self._pending)
        self._pending = None
