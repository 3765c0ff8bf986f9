"""Full-model mode: detectors and segmentors built from config files, on synthetic batches.

A batch is ``batch_size`` random images of ``img_size`` x ``img_size`` with random ground truth
(boxes, labels and masks for mmdet models by ``mmdet.testing.demo_mm_inputs``, a label map for
mmseg models), so any config runs without its dataset. Inference is ``model.test_step`` (data
preprocessor + predict); a training step is data preprocessor, ``mode='loss'``,
``parse_losses``, backward and an AdamW step.
"""
import os.path as osp
from dataclasses import asdict, dataclass
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
from mmengine.registry import MODELS, DefaultScope, init_default_scope
from torch import nn

from ..engine.compile import COMPILED_PARTS, compile_options, compile_static_parts
from ..engine.config import load_config
from ..engine.precision import set_tf32
from ..tasks import task_of
from .compiled import compiled_name, first_step_seconds, graph_breaks, with_compiled_twins
from .complexity import count_flops, count_parameters
from .device import device_backend, matmul_peak_flops, torch_threads
from .harness import (DTYPES, RunSettings, adamw, autocast_context, autocast_dtype,
                      measure_peak_memory, time_interleaved)
from .report import build_results, environment


@dataclass
class ModelBenchmarkSettings(RunSettings):
    """What ``tools/benchmark.py --config`` was asked to measure (recorded in the report)."""
    img_size: int = 512
    batch_size: int = 2
    mode: str = 'infer'
    dtype: str = 'fp32'
    warmup: int = 1
    rounds: int = 5
    # True or torch.compile options: also time each model with its backbone and neck compiled
    # (engine/compile.py) beside the eager one; compile time and graph breaks are reported apart.
    compile: Union[bool, dict] = False


def build_model_from_config(config_path: str, cfg_options: Optional[dict] = None) -> nn.Module:
    """The ``model`` of a config, built in the config's registry scope (mmdet / mmseg)."""
    cfg = load_config(config_path, cfg_options, check_data=False)
    task = task_of(cfg)
    init_default_scope(task.scope)
    # No init_weights(): pretrained URLs may be unreachable, and timing does not need them.
    with DefaultScope.overwrite_default_scope(task.scope):
        model = MODELS.build(cfg.model)
    model.task = task
    return model


def synthetic_batch(model: nn.Module, batch_size: int, img_size: Union[int, Tuple[int, int]],
                    seed: int) -> dict:
    """Random images of ``img_size`` (side, or (H, W)) and ground truth in the model's task
    format (``model.task``)."""
    height, width = (img_size, img_size) if isinstance(img_size, int) else img_size
    return model.task.synthetic_batch(_num_classes(model), batch_size, height, width, seed)


def _num_classes(model: nn.Module) -> int:
    """The first ``num_classes`` a head declares (2 if none does)."""
    for module in model.modules():
        value = getattr(module, 'num_classes', None)
        if isinstance(value, int) and value > 1:
            return value
    return 2


class TensorModeForward(nn.Module):
    """``model(inputs, data_samples, mode='tensor')`` as a one-argument module, for tracers."""

    def __init__(self, model: nn.Module, data_samples):
        super().__init__()
        self.model = model
        self.data_samples = data_samples

    def forward(self, inputs: torch.Tensor):
        return self.model(inputs, self.data_samples, mode='tensor')


def count_model_flops(model: nn.Module, batch: dict) -> int:
    """FLOPs of one image's tensor-mode forward (backbone, neck and heads, as mmdet's and
    mmseg's ``get_flops`` count them)."""
    single = dict(inputs=batch['inputs'][:1], data_samples=batch['data_samples'][:1])
    data = model.data_preprocessor(single, False)
    return count_flops(TensorModeForward(model, data['data_samples']), (data['inputs'], ))


def model_inference_step(model: nn.Module, batch: dict, dtype: Optional[torch.dtype],
                         device_type: str):

    def step():
        with torch.inference_mode(), autocast_context(device_type, dtype):
            return model.test_step(batch)

    return step


def model_training_step(model: nn.Module, batch: dict, dtype: Optional[torch.dtype],
                        device_type: str):
    optimizer = adamw([p for p in model.parameters() if p.requires_grad])

    def step():
        data = model.data_preprocessor(batch, True)
        with autocast_context(device_type, dtype):
            loss, _ = model.parse_losses(model(**data, mode='loss'))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return loss

    return step


def static_part_graph_breaks(model: nn.Module, batch: dict, training: bool) -> Dict[str, dict]:
    """:func:`.compiled.graph_breaks` of each part :func:`compile_static_parts` compiles, on
    one image of ``batch`` (a part's input is the previous part's output)."""
    data = model.data_preprocessor(dict(inputs=batch['inputs'][:1],
                                        data_samples=batch['data_samples'][:1]), training)
    found, value = {}, data['inputs']
    for name in COMPILED_PARTS:
        part = getattr(model, name, None)
        if isinstance(part, nn.Module):
            found[name] = graph_breaks(part, value, grad=training)
            with torch.set_grad_enabled(training):
                value = part(value)
    return found


def run_model_benchmark(settings: ModelBenchmarkSettings, config_paths: Sequence[str],
                        cfg_options: Optional[dict] = None, show_progress: bool = True) -> dict:
    """Times every config's model on the same synthetic batch size with ``settings.threads``
    CPU threads; returns the report dict."""
    if settings.mode not in ('infer', 'train'):
        raise ValueError(f'--mode {settings.mode!r}: choose infer or train.')
    with torch_threads(settings.threads):
        return _measure(settings, config_paths, cfg_options, show_progress)


def _measure(settings: ModelBenchmarkSettings, config_paths: Sequence[str],
             cfg_options: Optional[dict], show_progress: bool) -> dict:
    backend = device_backend(settings.device)
    set_tf32(settings.tf32)
    training = settings.mode == 'train'
    models, batches, flops = {}, {}, {}
    for path in config_paths:
        name = osp.splitext(osp.basename(path))[0]
        torch.manual_seed(settings.seed)
        model = build_model_from_config(path, cfg_options).to(backend.device)
        batches[name] = synthetic_batch(model, settings.batch_size, settings.img_size,
                                        settings.seed)
        flops[name] = count_model_flops(model, batches[name])
        models[name] = model.train(training)
    options = compile_options(settings.compile)
    compiled_meta = {}
    if options is not None:
        compiled_meta['graph_breaks'] = {
            name: static_part_graph_breaks(model, batches[name], training)
            for name, model in models.items()}
        models = with_compiled_twins(models, options, compile_static_parts)
        for name in list(batches):
            batches[compiled_name(name)], flops[compiled_name(name)] = batches[name], flops[name]
    make_step = model_training_step if training else model_inference_step
    steps = {name: make_step(models[name], batches[name], autocast_dtype(settings.dtype),
                             backend.type) for name in models}
    peak = matmul_peak_flops(backend, DTYPES[settings.dtype])
    first_step_s = {name: first_step_seconds(step, backend) for name, step in steps.items()}
    timings = time_interleaved(steps, backend, settings.warmup, settings.rounds, show_progress)
    memory = measure_peak_memory(steps, backend)
    params = {name: count_parameters(model) for name, model in models.items()}
    results = build_results(timings, memory, params, flops, settings.batch_size, settings.mode,
                            peak)
    meta = dict(kind='model', **asdict(settings), **compiled_meta,
                threads_used=torch.get_num_threads(), first_step_s=first_step_s,
                configs=list(config_paths), device_name=backend.name(),
                matmul_peak_gflops=peak / 1e9, environment=environment())
    return dict(meta=meta, results=results)
