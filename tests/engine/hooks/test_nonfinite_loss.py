"""NonFiniteLossHook under a dynamic loss scaler lets the scaler skip overflowing steps, reads
nothing back from the device on ordinary iterations, and stops a run only when the losses stay
non-finite or the scale collapses; without one it stops at the first non-finite loss. The
scaler is torch's own GradScaler on the CPU inside mmengine's AmpOptimWrapper (which asserts a
GPU at construction, so its check is bypassed here)."""
import math

import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

from convnext_dense.engine.hooks.nonfinite_loss import NonFiniteLossError, NonFiniteLossHook


class StandInRunner:
    """What the hook reads of mmengine's Runner."""

    def __init__(self, optim_wrapper, max_iters=100):
        self.optim_wrapper = optim_wrapper
        self.iter = 0
        self.max_iters = max_iters
        self.message_hub = MessageHub.get_instance('nonfinite-loss-test')


def amp_wrapper(monkeypatch, model, **scaler):
    import mmengine.optim.optimizer.amp_optimizer_wrapper as amp
    monkeypatch.setattr(amp, 'is_cuda_available', lambda: True)
    with pytest.warns(UserWarning):  # torch.cuda.amp.GradScaler disables itself without CUDA
        wrapper = AmpOptimWrapper(optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    wrapper.loss_scaler = torch.amp.GradScaler('cpu', **scaler)
    return wrapper


class HostReads(TorchDispatchMode):
    """Counts reads of a tensor's value by the host (``.item()``, ``bool()``, ``int()``)."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func in (torch.ops.aten._local_scalar_dense.default, torch.ops.aten.is_nonzero.default):
            self.count += 1
        return func(*args, **(kwargs or {}))


def train(runner, hook, model, losses):
    """Runs iterations with these loss factors (inf makes a non-finite loss); returns the host
    reads each ``update_params`` made."""
    reads = []
    for factor in losses:
        loss = model(torch.ones(1, 2)).sum() * factor
        counter = HostReads()
        with counter:
            runner.optim_wrapper.update_params(loss)
        reads.append(counter.count)
        hook.after_train_iter(runner, runner.iter, outputs=dict(loss=loss.detach()))
        runner.iter += 1
    return reads


def test_the_scaler_skips_overflowing_steps_without_host_reads(monkeypatch):
    model = nn.Linear(2, 1)
    runner, hook = StandInRunner(amp_wrapper(monkeypatch, model)), NonFiniteLossHook()
    unhooked = HostReads()
    with unhooked:  # the scaler's own read: whether any gradient overflowed
        runner.optim_wrapper.update_params(model(torch.ones(1, 2)).sum())
    hook.before_train(runner)
    weights = model.weight.detach().clone()
    reads = train(runner, hook, model, [math.inf] * 3)
    assert torch.equal(model.weight, weights)  # the scaler skipped the three updates
    assert runner.optim_wrapper.loss_scaler.get_scale() == 2.0**16 / 2**3
    reads += train(runner, hook, model, [1.0] * 30)  # iteration 20 is a check: finds no streak
    assert not torch.equal(model.weight, weights)
    assert reads == [unhooked.count] * 33


def test_losses_non_finite_for_max_skips_iterations_stop_at_the_next_check(monkeypatch):
    model = nn.Linear(2, 1)
    runner = StandInRunner(amp_wrapper(monkeypatch, model, init_scale=2.0**30))
    hook = NonFiniteLossHook(max_skips=5, check_interval=10)
    hook.before_train(runner)
    # Iterations 4-7 non-finite: 4 in a row, and the check at iteration 10 lets the run go on.
    train(runner, hook, model, [1.0] * 3 + [math.inf] * 4 + [1.0] * 3)
    with pytest.raises(NonFiniteLossError, match='for 5 iterations in a row by iteration 20'):
        train(runner, hook, model, [math.inf] * 5 + [1.0] * 5)


def test_a_collapsed_loss_scale_stops_the_run(monkeypatch):
    model = nn.Linear(2, 1)
    runner = StandInRunner(amp_wrapper(monkeypatch, model, init_scale=2.0**-10))
    hook = NonFiniteLossHook(min_loss_scale=1e-4, check_interval=5)
    hook.before_train(runner)
    with pytest.raises(NonFiniteLossError, match=r'loss scale fell to 6.1\d*e-05 by iteration 5'):
        train(runner, hook, model, [math.inf, 1.0, math.inf, math.inf, math.inf])


@pytest.mark.parametrize('wrapper', ['plain', 'fixed-scale'])
def test_without_a_dynamic_scaler_the_first_non_finite_loss_stops(monkeypatch, wrapper):
    model = nn.Linear(2, 1)
    if wrapper == 'plain':
        optim_wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    else:
        optim_wrapper = amp_wrapper(monkeypatch, model)
        optim_wrapper._scale_update_param = 512.0  # what loss_scale=512.0 sets
    runner, hook = StandInRunner(optim_wrapper), NonFiniteLossHook()
    hook.before_train(runner)
    weights = model.weight.detach().clone()
    with pytest.raises(NonFiniteLossError, match='Non-finite loss at iteration 2'):
        train(runner, hook, model, [1.0, math.nan])
    assert not torch.isnan(model.weight).any() and not torch.equal(model.weight, weights)
