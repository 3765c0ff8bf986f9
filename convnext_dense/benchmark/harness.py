"""Times steps of several models side by side: warm-up, interleaved rounds, memory, report rows.

A *step* is one call that processes a batch: inference (forward under ``inference_mode``) or a
training step (forward, backward of a scalar loss, optimizer step). Rounds interleave the models
(A B C, B C A, C A B, ...), so a slow spell of a shared machine hits all of them alike; each
model's figure is the median over rounds, with min and max beside it.
"""
import gc
import statistics
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

import torch
from mmengine.utils import ProgressBar
from torch import Tensor, nn

Step = Callable[[], object]

DTYPES = {'fp32': torch.float32, 'bf16': torch.bfloat16, 'fp16': torch.float16}
# A training step does about three forward passes' work (backward costs about two).
TRAIN_WORK_PER_FORWARD = 3


class ImplementationsDisagree(AssertionError):
    """Two implementations given the same weights and input produced different outputs."""


@dataclass
class RunSettings:
    """How a benchmark runs, whatever it measures: CPU threads (None: torch's default), device,
    TF32 matmuls on CUDA, untimed warm-up steps, timed rounds, and the seed of its inputs and
    weights. Each benchmark's settings extend these with what it measures."""
    threads: Optional[int] = None
    device: str = 'cpu'
    tf32: bool = True
    warmup: int = 2
    rounds: int = 10
    seed: int = 0


@dataclass
class Timings:
    """Seconds per step of one model over the timed rounds."""
    seconds: List[float] = field(default_factory=list)

    def images_per_s(self, batch_size: int) -> Dict[str, float]:
        rates = [batch_size / s for s in self.seconds]
        return dict(median=statistics.median(rates), min=min(rates), max=max(rates))

    def latency_ms(self) -> Dict[str, float]:
        millis = [1000.0 * s for s in self.seconds]
        return dict(median=statistics.median(millis), min=min(millis), max=max(millis))


def flatten_outputs(outputs) -> List[Tensor]:
    """A model's outputs as a flat list of tensors (tuples, lists and dicts of tensors)."""
    if isinstance(outputs, Tensor):
        return [outputs]
    if isinstance(outputs, dict):
        return [t for key in sorted(outputs) for t in flatten_outputs(outputs[key])]
    return [t for item in outputs for t in flatten_outputs(item)]


def check_agreement(outputs: Dict[str, object], reference: str, atol: float,
                    rtol: float) -> Dict[str, float]:
    """Compares every model's outputs with ``reference``'s; returns each one's max abs difference.

    Raises :class:`ImplementationsDisagree` naming the model, the output index, the shapes or the
    largest difference, when any output differs beyond ``atol + rtol * |reference|``.
    """
    expected = flatten_outputs(outputs[reference])
    differences = {}
    for name, produced in outputs.items():
        actual = flatten_outputs(produced)
        if len(actual) != len(expected):
            raise ImplementationsDisagree(
                f'{name} gives {len(actual)} outputs, {reference} gives {len(expected)}.')
        worst = 0.0
        for index, (a, e) in enumerate(zip(actual, expected)):
            if a.shape != e.shape:
                raise ImplementationsDisagree(f'{name} output {index} has shape '
                                              f'{tuple(a.shape)}, {reference} {tuple(e.shape)}.')
            difference = (a.float() - e.float()).abs()
            excess = difference - (atol + rtol * e.float().abs())
            if excess.max() > 0:
                raise ImplementationsDisagree(
                    f'{name} output {index} differs from {reference} by up to '
                    f'{difference.max().item():.3g} (allowed {atol:g} + {rtol:g} * |ref|).')
            worst = max(worst, difference.max().item())
        differences[name] = worst
    return differences


def inference_step(model: nn.Module, batch: Tensor, autocast_dtype: Optional[torch.dtype],
                   device_type: str) -> Step:
    """Forward of ``batch`` under ``inference_mode`` (and autocast to ``autocast_dtype``)."""

    def step():
        with torch.inference_mode(), autocast_context(device_type, autocast_dtype):
            return model(batch)

    return step


def training_step(model: nn.Module, batch: Tensor, autocast_dtype: Optional[torch.dtype],
                  device_type: str) -> Step:
    """Forward, backward of the mean of every output, AdamW step (the same for every model)."""
    optimizer = adamw([p for p in model.parameters() if p.requires_grad])

    def step():
        with autocast_context(device_type, autocast_dtype):
            loss = sum(t.float().mean() for t in flatten_outputs(model(batch)))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return loss

    return step


def adamw(params: List[nn.Parameter]) -> torch.optim.AdamW:
    """The optimizer of every timed training step: AdamW with its fused kernel (CPU and CUDA),
    the choice of a user who cares about step time."""
    return torch.optim.AdamW(params, lr=1e-4, fused=True)


def time_interleaved(steps: Dict[str, Step], backend, warmup: int, rounds: int,
                     show_progress: bool = True) -> Dict[str, Timings]:
    """Warms every step up, then times ``rounds`` interleaved rounds, rotating the order."""
    names = list(steps)
    progress = ProgressBar(len(names) * (warmup + rounds)) if show_progress else None
    for name in names:
        for _ in range(warmup):
            steps[name]()
            _advance(progress)
    backend.synchronize()
    timings = {name: Timings() for name in names}
    for round_index in range(rounds):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            timings[name].seconds.append(backend.time(steps[name]))
            _advance(progress)
    if progress is not None:
        print()
    return timings


def measure_peak_memory(steps: Dict[str, Step], backend) -> Dict[str, Optional[int]]:
    """Peak memory of one step of each model, measured one model at a time."""
    peaks = {}
    for name, step in steps.items():
        gc.collect()
        peaks[name] = backend.peak_memory(step)
    return peaks


def ratios_to_fastest_peer(medians: Dict[str, float]) -> Dict[str, Optional[float]]:
    """Each model's median images/s over the best median among the *other* models."""
    ratios = {}
    for name, rate in medians.items():
        others = [r for other, r in medians.items() if other != name]
        ratios[name] = rate / max(others) if others else None
    return ratios


def autocast_context(device_type: str, dtype: Optional[torch.dtype]):
    """Autocast to ``dtype`` on ``device_type``; a no-op context for None."""
    return torch.autocast(device_type, dtype=dtype, enabled=dtype is not None)


def _advance(progress: Optional[ProgressBar]) -> None:
    if progress is not None:
        progress.update()


def autocast_dtype(dtype_name: str) -> Optional[torch.dtype]:
    """None for fp32 (no autocast), else the autocast dtype for ``--dtype``."""
    if dtype_name not in DTYPES:
        raise ValueError(f'--dtype {dtype_name!r}: choose one of {sorted(DTYPES)}.')
    return None if dtype_name == 'fp32' else DTYPES[dtype_name]


