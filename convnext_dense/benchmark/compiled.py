"""Compiled twins: each timed model beside a compiled copy of itself, in the same run.

``--compile`` (``settings.compile``: ``True`` or a dict of ``torch.compile`` options, as the
config key) adds ``NAME (compiled)`` beside every ``NAME``. What a compiled row costs is reported
apart from its steady state: the seconds of its first step (dynamo's capture and inductor's code
generation) and the graphs and graph breaks dynamo finds in what was compiled
(``torch._dynamo.explain``).
"""
import copy
import time
from typing import Callable, Dict

import torch
from torch import nn

COMPILED_SUFFIX = ' (compiled)'


def compiled_name(name: str) -> str:
    return f'{name}{COMPILED_SUFFIX}'


def with_compiled_twins(models: Dict[str, nn.Module], options: dict,
                        compile_in_place: Callable[[nn.Module, dict], object]
                        ) -> Dict[str, nn.Module]:
    """``models`` with, after each, a deep copy compiled by ``compile_in_place(copy,
    options)``; the copy starts from the same weights."""
    paired = {}
    for name, model in models.items():
        twin = copy.deepcopy(model)
        compile_in_place(twin, options)
        paired[name], paired[compiled_name(name)] = model, twin
    return paired


def first_step_seconds(step: Callable[[], object], backend) -> float:
    """Seconds of one call of ``step``; for a compiled model's first, mostly its compilation."""
    backend.synchronize()
    start = time.perf_counter()
    step()
    backend.synchronize()
    return time.perf_counter() - start


def graph_breaks(function: Callable, *args, grad: bool = True) -> Dict[str, object]:
    """Graphs, graph breaks and the distinct break reasons dynamo finds tracing
    ``function(*args)`` (nothing is compiled by inductor). Call it before timing compiled
    models: it resets dynamo's caches."""
    torch._dynamo.reset()
    with torch.set_grad_enabled(grad):
        explained = torch._dynamo.explain(function)(*args)
    torch._dynamo.reset()
    reasons = sorted({_first_line(r.reason) for r in explained.break_reasons})
    return dict(graphs=explained.graph_count, breaks=explained.graph_break_count,
                reasons=reasons)


def _first_line(text: str) -> str:
    return str(text).strip().splitlines()[0] if str(text).strip() else ''
