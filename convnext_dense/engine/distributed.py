"""Decisions every rank of a distributed run must share: stop on a signal, refuse a work dir,
give up on a failed download.

A decision taken by one rank (the one a signal reached, rank 0 reading the lock, the rank that
downloads) must reach every other rank, or those wait forever in the next collective. These
helpers carry it over a gloo process group of the same ranks: CPU tensors, so a decision never
waits for, or synchronises, the GPU streams. Where the run's own backend is gloo, that is the
default group. Outside a distributed run each helper is the plain local answer.
"""
import os
from typing import Callable, Optional, TypeVar

import torch
import torch.distributed as dist
from mmengine.dist import get_dist_info, is_distributed

T = TypeVar('T')
_HOST_GROUPS: dict = {}  # the default group -> its gloo twin (one per process group)


def host_group():
    """The gloo group of all ranks (made on first use: every rank must call this at the same
    point, as it does any collective), or None outside a distributed run."""
    if not is_distributed():
        return None
    world = dist.group.WORLD
    if world not in _HOST_GROUPS:
        _HOST_GROUPS[world] = (world if dist.get_backend() == 'gloo' else
                               dist.new_group(backend='gloo'))
    return _HOST_GROUPS[world]


def local_rank() -> int:
    """This process's rank on its node: ``LOCAL_RANK`` (torchrun; mmengine sets it from
    ``SLURM_LOCALID`` under Slurm), else ``SLURM_LOCALID``, else 0."""
    return int(os.environ.get('LOCAL_RANK', os.environ.get('SLURM_LOCALID', 0)))


def max_over_ranks(value: int) -> int:
    """The largest ``value`` any rank passes (``value`` itself outside a distributed run)."""
    group = host_group()
    if group is None:
        return value
    tensor = torch.tensor([value], dtype=torch.int64)
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX, group=group)
    return int(tensor.item())


def same_on_every_rank(value: int) -> bool:
    """Whether every rank passes the same ``value``."""
    return max_over_ranks(value) == -max_over_ranks(-value)


def decided_on_rank_zero(decide: Callable[[], T], errors=(Exception,)) -> T:
    """``decide()`` run on rank 0 only; every rank returns its result, or raises the error of
    a type in ``errors`` it raised (the same message on every rank, so none waits for a rank
    that gave up)."""
    group = host_group()
    if group is None:
        return decide()
    outcome = [None]
    if get_dist_info()[0] == 0:
        try:
            outcome = [(decide(), None)]
        except errors as error:
            outcome = [(None, error)]
    dist.broadcast_object_list(outcome, src=0, group=group)
    result, error = outcome[0]
    if error is not None:
        raise error
    return result


def first_error_of_any_rank(error: Optional[str]) -> Optional[str]:
    """The first (by rank) of the error messages the ranks pass, None if none passes one."""
    group = host_group()
    if group is None:
        return error
    messages = [None] * dist.get_world_size()
    dist.all_gather_object(messages, error, group=group)
    return next((message for message in messages if message), None)


def gathered(value: T) -> list:
    """Every rank's ``value``, by rank (``[value]`` outside a distributed run)."""
    group = host_group()
    if group is None:
        return [value]
    values = [None] * dist.get_world_size()
    dist.all_gather_object(values, value, group=group)
    return values
