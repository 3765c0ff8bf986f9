"""Device backends: the CUDA code path driven by a stand-in ``torch.cuda`` on any machine, the
real one where a GPU exists, and the CPU memory meter."""
import time
from contextlib import contextmanager

import pytest
import torch

from convnext_dense.benchmark.device import (CpuBackend, CudaBackend, device_backend,
                                             matmul_peak_flops)


class FakeEvent:
    def __init__(self, enable_timing: bool):
        assert enable_timing
        self.stamp = self.device = None

    def record(self):
        self.stamp = time.perf_counter()
        self.device = FakeCuda.current  # events record on the current device's stream

    def elapsed_time(self, other: 'FakeEvent') -> float:
        return 1000.0 * (other.stamp - self.stamp)


class FakeCuda:
    """Just the ``torch.cuda`` calls CudaBackend makes, with a fake allocator, on GPU 0 until a
    ``device`` context says otherwise."""
    Event = FakeEvent
    current = 0

    def __init__(self):
        self.calls = []
        self.allocated, self.peak = 100, 100

    def current_device(self):
        return FakeCuda.current

    @contextmanager
    def device(self, device):
        previous, FakeCuda.current = FakeCuda.current, torch.device(device).index
        try:
            yield
        finally:
            FakeCuda.current = previous

    def synchronize(self, device):
        self.calls.append('synchronize')

    def reset_peak_memory_stats(self, device):
        self.calls.append('reset')
        self.peak = self.allocated

    def memory_allocated(self, device):
        return self.allocated

    def max_memory_allocated(self, device):
        return self.peak

    def get_device_name(self, device):
        return 'Fake GPU'


def test_cuda_backend_times_between_synchronized_events():
    cuda = FakeCuda()
    backend = CudaBackend(torch.device('cuda'), cuda)
    seconds = backend.time(lambda: time.sleep(0.01))
    assert seconds >= 0.01
    assert cuda.calls == ['synchronize', 'synchronize']
    assert backend.name() == 'Fake GPU'
    assert backend.device == torch.device('cuda', 0)


def test_cuda_backend_records_events_on_the_measured_device():
    """With ``--device cuda:1`` the current device stays 0: events there would time GPU 0's
    stream, where nothing of the measured work runs."""
    cuda = FakeCuda()
    backend = CudaBackend(torch.device('cuda', 1), cuda)
    recorded = []
    original_record = FakeEvent.record

    def record(event):
        original_record(event)
        recorded.append(event.device)

    FakeEvent.record = record
    try:
        backend.time(lambda: None)
    finally:
        FakeEvent.record = original_record
    assert recorded == [1, 1] and FakeCuda.current == 0


def test_the_matmul_peak_is_measured_at_a_size_that_fills_the_device():
    # A Hopper GPU finishes a 2048 matmul in about a kernel launch's time.
    assert CudaBackend(torch.device('cuda', 0), FakeCuda()).matmul_size >= 8192
    assert CpuBackend().matmul_size == 2048


def test_cuda_backend_reports_peak_above_what_was_allocated_before():
    cuda = FakeCuda()
    backend = CudaBackend(torch.device('cuda', 0), cuda)

    def step():
        cuda.peak = cuda.allocated + 4096

    assert backend.peak_memory(step) == 4096
    assert cuda.calls == ['synchronize', 'reset', 'synchronize']


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA device')
def test_real_cuda_backend():
    backend = device_backend('cuda')
    x = torch.randn(1024, 1024, device='cuda')
    assert backend.time(lambda: x @ x) > 0
    assert backend.peak_memory(lambda: torch.empty(2**24, device='cuda')) >= 2**26
    assert matmul_peak_flops(backend, torch.float32, size=1024, repeats=2) > 0


def test_cpu_backend_sees_a_large_allocation():
    backend = CpuBackend()
    peak = backend.peak_memory(lambda: torch.ones(64 * 2**20 // 4).sum())
    if peak is None:
        pytest.skip('this kernel offers no resettable peak RSS')
    assert peak >= 48 * 2**20


def test_device_backend_names_bad_devices():
    assert device_backend('cpu').type == 'cpu'
    with pytest.raises(ValueError, match="'mps'"):
        device_backend('mps')
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match='no CUDA device'):
            device_backend('cuda')
