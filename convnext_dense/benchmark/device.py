"""What the benchmark needs from a device: a clock, a peak-memory meter and a matmul peak.

:func:`device_backend` returns a :class:`CpuBackend` or a :class:`CudaBackend`; the harness only
talks to this interface, so the same harness code runs on both. ``CudaBackend`` takes the
``torch.cuda`` module as an argument so that tests can drive its code path with a stand-in on a
machine without a GPU.
"""
import ctypes
import ctypes.util
import os
import time
from contextlib import contextmanager
from types import ModuleType
from typing import Callable, Optional

import torch


class CpuBackend:
    """Wall-clock timing; peak memory as growth of the process's peak resident set (Linux
    ``VmHWM``, reset through ``/proc/self/clear_refs``)."""

    type = 'cpu'
    # A 2048 matmul (17 GFLOP) takes ~0.1 s on two cores: long enough to reach their peak.
    matmul_size = 2048

    def __init__(self, device: torch.device = torch.device('cpu')):
        self.device = device

    def name(self) -> str:
        model = _cpu_model_name()
        return f'{model} ({torch.get_num_threads()} threads)'

    def synchronize(self) -> None:
        """CPU work is synchronous; nothing to wait for."""

    def time(self, fn: Callable[[], object]) -> float:
        """Seconds ``fn()`` takes."""
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start

    def peak_memory(self, fn: Callable[[], object]) -> Optional[int]:
        """Bytes by which the resident set peaked above its size before ``fn()``; None where the
        kernel offers no resettable peak."""
        _return_freed_memory_to_os()
        if not _reset_peak_rss():
            return None
        before = _status_kib('VmRSS')
        fn()
        return max(0, _status_kib('VmHWM') - before) * 1024


class CudaBackend:
    """CUDA events for timing, recorded on the measured device's current stream (with a
    synchronize before reading them), and the caching allocator's peak for memory.

    ``device`` is the measured GPU; for ``cuda`` without an index, the current one.
    """

    type = 'cuda'
    # A Hopper GPU does a 2048 matmul (17 GFLOP) in ~20 us, about its launch overhead; 8192
    # (1.1 TFLOP, ~1 ms in bf16 on an H100 / H200) reaches its peak.
    matmul_size = 8192

    def __init__(self, device: torch.device, cuda: ModuleType = torch.cuda):
        self.device = device if device.index is not None else torch.device(
            'cuda', cuda.current_device())
        self.cuda = cuda

    def name(self) -> str:
        return self.cuda.get_device_name(self.device)

    def synchronize(self) -> None:
        self.cuda.synchronize(self.device)

    def time(self, fn: Callable[[], object]) -> float:
        """Seconds ``fn()`` takes on the GPU, measured by events around it. Events record on
        the current device's stream, which need not be the measured one (``--device cuda:1``
        leaves the current device at 0), so the measured device is made current around them."""
        with self.cuda.device(self.device):
            start = self.cuda.Event(enable_timing=True)
            end = self.cuda.Event(enable_timing=True)
            self.synchronize()
            start.record()
            fn()
            end.record()
            self.synchronize()
        return start.elapsed_time(end) / 1000.0

    def peak_memory(self, fn: Callable[[], object]) -> Optional[int]:
        """Bytes allocated at the peak of ``fn()`` above what was allocated before it."""
        self.synchronize()
        self.cuda.reset_peak_memory_stats(self.device)
        before = self.cuda.memory_allocated(self.device)
        fn()
        self.synchronize()
        return self.cuda.max_memory_allocated(self.device) - before


def device_backend(device: str):
    """The backend for ``'cpu'``, ``'cuda'`` or ``'cuda:N'``; a clear error when CUDA is asked
    for and absent."""
    torch_device = torch.device(device)
    if torch_device.type == 'cpu':
        return CpuBackend(torch_device)
    if torch_device.type == 'cuda':
        if not torch.cuda.is_available():
            raise RuntimeError(f'--device {device}: no CUDA device is available here.')
        return CudaBackend(torch_device)
    raise ValueError(f'--device {device!r}: only cpu and cuda are supported.')


@contextmanager
def torch_threads(threads: Optional[int]):
    """Runs the block with ``threads`` CPU threads (unchanged for None), restoring the count."""
    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def matmul_peak_flops(backend, dtype: torch.dtype, size: Optional[int] = None,
                      repeats: int = 5) -> float:
    """Best FLOP/s of a square ``size`` matmul (default: the backend's ``matmul_size``) in
    ``dtype`` on the backend's device (2 * size**3 floating-point operations per product): the
    ceiling the model throughput is compared to."""
    size = size or backend.matmul_size
    a = torch.randn(size, size, device=backend.device).to(dtype)
    b = torch.randn(size, size, device=backend.device).to(dtype)
    torch.matmul(a, b)
    best = min(backend.time(lambda: torch.matmul(a, b)) for _ in range(repeats))
    return 2 * size**3 / best


def _cpu_model_name() -> str:
    try:
        with open('/proc/cpuinfo') as cpuinfo:
            for line in cpuinfo:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return 'CPU'


def _return_freed_memory_to_os() -> None:
    # glibc keeps freed blocks for reuse; without trimming, a step that reuses them shows no
    # growth of the resident set however much it allocates.
    try:
        ctypes.CDLL(ctypes.util.find_library('c')).malloc_trim(0)
    except (OSError, AttributeError, TypeError):
        pass


def _reset_peak_rss() -> bool:
    try:
        with open('/proc/self/clear_refs', 'w') as clear_refs:
            clear_refs.write('5')
        return True
    except OSError:
        return False


def _status_kib(field: str) -> int:
    with open(f'/proc/{os.getpid()}/status') as status:
        for line in status:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    raise RuntimeError(f'/proc/self/status has no {field} line.')
