"""Backbone comparison: ours against timm, torchvision and mmpretrain, same weights, same input.

:func:`run_backbone_benchmark` builds each implementation from :func:`reference_weights`, checks
in fp32 that all of them produce our outputs, then times them interleaved in the requested mode,
dtype and memory format, and returns a report (see :mod:`.report` for its schema). With
``compile``, each is timed beside its ``torch.compile``'d twin (:mod:`.compiled`).

An implementation named with ``-v2`` (``ours-v2``, ``timm-v2``) is its ConvNeXt V2 (GRN) whatever
``use_grn`` says, so V1 and V2 can be timed in one run (``--impls ours,ours-v2``); outputs are
checked equal within each version, against its first implementation.
"""
from dataclasses import asdict, dataclass
from typing import Dict, List, Sequence, Tuple, Union

import torch
from mmengine.logging import print_log
from torch import nn

from ..engine.compile import compile_options
from ..engine.precision import set_tf32
from .compiled import COMPILED_SUFFIX, first_step_seconds, graph_breaks, with_compiled_twins
from .complexity import count_flops, count_parameters
from .device import device_backend, matmul_peak_flops, torch_threads
from .harness import (DTYPES, RunSettings, autocast_dtype, check_agreement, inference_step,
                      measure_peak_memory, time_interleaved, training_step)
from .implementations import MissingImplementationError, build_implementation, reference_weights
from .report import build_results, environment

# fp32 agreement: the implementations differ only in operation order (and our fused kernels in
# where layer scale is multiplied); observed max differences are ~1e-5 on ConvNeXt-T outputs of
# magnitude ~1.
AGREEMENT_ATOL = 1e-4
AGREEMENT_RTOL = 1e-4
V2_SUFFIX = '-v2'


@dataclass
class BackboneBenchmarkSettings(RunSettings):
    """What ``tools/benchmark.py`` was asked to measure (recorded in the report)."""
    arch: str = 'tiny'
    use_grn: bool = False
    img_size: int = 224
    batch_size: int = 8
    mode: str = 'infer'
    dtype: str = 'fp32'
    channels_last: bool = False
    drop_path_rate: float = 0.0
    # True or torch.compile options: also time each implementation compiled, beside eager.
    compile: Union[bool, dict] = False


def run_backbone_benchmark(settings: BackboneBenchmarkSettings, impls: Sequence[str],
                           show_progress: bool = True) -> dict:
    """Builds, checks and times ``impls`` with ``settings.threads`` CPU threads; returns the
    report dict."""
    if settings.mode not in ('infer', 'train'):
        raise ValueError(f'--mode {settings.mode!r}: choose infer or train.')
    with torch_threads(settings.threads):
        return _measure(settings, impls, show_progress)


def _measure(settings: BackboneBenchmarkSettings, impls: Sequence[str],
             show_progress: bool) -> dict:
    backend = device_backend(settings.device)
    set_tf32(settings.tf32)
    models = _build_all(impls, settings)
    generator = torch.Generator().manual_seed(settings.seed)
    batch = torch.randn(settings.batch_size, 3, settings.img_size, settings.img_size,
                        generator=generator)

    groups = _version_groups(models, settings)
    differences = {}
    for group in groups:
        differences.update(_check_fp32_agreement({name: models[name] for name in group}, batch))
    flops = {}
    for group in groups:
        flops.update(dict.fromkeys(group, count_flops(models[group[0]], (batch[:1], ))))
    peak = matmul_peak_flops(backend, DTYPES[settings.dtype])
    batch = _place(models, batch, settings, backend)
    options = compile_options(settings.compile)
    compiled_meta = {}
    if options is not None:
        compiled_meta['graph_breaks'] = {
            name: graph_breaks(model, batch[:1], grad=settings.mode == 'train')
            for name, model in models.items()}
        models = with_compiled_twins(models, options, lambda model, o: model.compile(**o))
        differences = {name: differences.get(name) for name in models}
        flops = {name: flops.get(name, flops.get(name[:-len(COMPILED_SUFFIX)]))
                 for name in models}
    steps = _make_steps(models, batch, settings, backend)
    if options is not None:
        compiled_meta['first_step_s'] = {name: first_step_seconds(step, backend)
                                         for name, step in steps.items()}
    timings = time_interleaved(steps, backend, settings.warmup, settings.rounds, show_progress)
    memory = measure_peak_memory(steps, backend)

    params = {name: count_parameters(model) for name, model in models.items()}
    results = build_results(timings, memory, params, flops,
                            settings.batch_size, settings.mode, peak, differences)
    meta = dict(kind='backbone', **asdict(settings), **compiled_meta,
                threads_used=torch.get_num_threads(),
                impls=list(models), device_name=backend.name(), matmul_peak_gflops=peak / 1e9,
                agreement=dict(reference=', '.join(group[0] for group in groups),
                               atol=AGREEMENT_ATOL,
                               rtol=AGREEMENT_RTOL, checked_in='fp32'),
                environment=environment())
    return dict(meta=meta, results=results)


def _version(name: str, settings: BackboneBenchmarkSettings) -> Tuple[str, bool]:
    """The implementation an ``--impls`` entry names, and whether it is V2 (GRN)."""
    if name.endswith(V2_SUFFIX):
        return name[:-len(V2_SUFFIX)], True
    return name, settings.use_grn


def _version_groups(models: Dict[str, nn.Module],
                    settings: BackboneBenchmarkSettings) -> List[List[str]]:
    """The models' names grouped by version (V1, V2), in their order."""
    groups: Dict[bool, List[str]] = {}
    for name in models:
        groups.setdefault(_version(name, settings)[1], []).append(name)
    return list(groups.values())


def _build_all(impls: Sequence[str], settings: BackboneBenchmarkSettings) -> Dict[str, nn.Module]:
    if not impls:
        raise ValueError('--impls is empty; name at least one implementation.')
    models, states = {}, {}
    for name in impls:
        implementation, use_grn = _version(name, settings)
        if use_grn not in states:
            states[use_grn] = reference_weights(settings.arch, use_grn, settings.seed)
        try:
            models[name] = build_implementation(implementation, settings.arch, use_grn,
                                                states[use_grn], settings.drop_path_rate)
        except MissingImplementationError as error:
            print_log(f'Skipping {name}: {error}', logger='current')
    if not models:
        raise MissingImplementationError(f'None of {list(impls)} could be built.')
    return models


def _check_fp32_agreement(models: Dict[str, nn.Module], batch: torch.Tensor) -> Dict[str, float]:
    outputs = {}
    for name, model in models.items():
        model.eval()
        with torch.inference_mode():
            outputs[name] = model(batch)
    return check_agreement(outputs, next(iter(models)), AGREEMENT_ATOL, AGREEMENT_RTOL)


def _place(models: Dict[str, nn.Module], batch: torch.Tensor,
           settings: BackboneBenchmarkSettings, backend) -> torch.Tensor:
    """Moves models and batch to the device (and NHWC with ``--channels-last``; without it every
    model keeps the layout it is built with, ours NHWC), in the mode's train / eval state."""
    batch = batch.to(backend.device)
    if settings.channels_last:
        batch = batch.contiguous(memory_format=torch.channels_last)
    for model in models.values():
        model.to(backend.device)
        if settings.channels_last:
            model.to(memory_format=torch.channels_last)
        model.train(settings.mode == 'train')
    return batch


def _make_steps(models: Dict[str, nn.Module], batch: torch.Tensor,
                settings: BackboneBenchmarkSettings, backend):
    make_step = training_step if settings.mode == 'train' else inference_step
    return {name: make_step(model, batch, autocast_dtype(settings.dtype), backend.type)
            for name, model in models.items()}
