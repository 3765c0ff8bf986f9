"""Exported models in ONNX Runtime against the same graphs in PyTorch eager, side by side.

Each config's model (initial weights) becomes its export graph (:mod:`convnext_dense.deploy`),
is exported for the benchmark's image size, and both runtimes predict on the same random image
with the same number of CPU threads; the report also holds each pair's largest output
difference.
"""
import os.path as osp
import tempfile
from dataclasses import asdict
from typing import Dict, Optional, Sequence

import numpy as np
import torch

from ..deploy.onnx_export import export_graph, export_onnx
from .complexity import count_flops, count_parameters
from .device import device_backend, matmul_peak_flops, torch_threads
from .full_model import ModelBenchmarkSettings, build_model_from_config
from .harness import DTYPES, measure_peak_memory, time_interleaved
from .report import build_results, environment


def run_onnxruntime_benchmark(settings: ModelBenchmarkSettings, config_paths: Sequence[str],
                              cfg_options: Optional[dict] = None,
                              show_progress: bool = True) -> dict:
    """Times ``<config> (pytorch)`` and ``<config> (onnxruntime)`` for every config, one image
    per step (detector graphs take one), fp32 on CPU; returns the report dict."""
    if settings.mode != 'infer' or settings.dtype != 'fp32' or settings.device != 'cpu':
        raise ValueError('--onnxruntime times fp32 inference on the CPU (--mode infer).')
    if settings.batch_size != 1:
        raise ValueError('--onnxruntime: --batch-size 1 (detector graphs take one image).')
    with torch_threads(settings.threads), tempfile.TemporaryDirectory() as tmp:
        return _measure(settings, config_paths, cfg_options, tmp, show_progress)


def _measure(settings, config_paths, cfg_options, tmp: str, show_progress: bool) -> dict:
    import onnxruntime
    backend = device_backend('cpu')
    steps, flops, params, differences = {}, {}, {}, {}
    image = torch.from_numpy(np.random.default_rng(settings.seed).uniform(
        0, 255, (1, 3, settings.img_size, settings.img_size)).astype(np.float32))
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    for path in config_paths:
        name = osp.splitext(osp.basename(path))[0]
        torch.manual_seed(settings.seed)
        model = build_model_from_config(path, cfg_options).eval()
        graph = export_graph(model, model.task, fixed_size=True)
        onnx_file = osp.join(tmp, f'{name}.onnx')
        export_onnx(graph, onnx_file, image.shape[-2:], dynamic=False, metadata={})
        session = onnxruntime.InferenceSession(onnx_file, options,
                                               providers=['CPUExecutionProvider'])
        steps[f'{name} (pytorch)'] = _pytorch_step(graph, image)
        steps[f'{name} (onnxruntime)'] = lambda s=session: s.run(None, {'image': image.numpy()})
        differences.update(_differences(name, graph, session, image))
        flops[f'{name} (pytorch)'] = flops[f'{name} (onnxruntime)'] = count_flops(graph, [image])
        params[f'{name} (pytorch)'] = params[f'{name} (onnxruntime)'] = count_parameters(graph)
    peak = matmul_peak_flops(backend, DTYPES['fp32'])
    timings = time_interleaved(steps, backend, settings.warmup, settings.rounds, show_progress)
    memory = measure_peak_memory(steps, backend)
    # ONNX Runtime's memory arena is allocated during warm-up and kept: its later peak says
    # nothing, so its rows report none.
    memory.update({name: None for name in steps if name.endswith('(onnxruntime)')})
    results = build_results(timings, memory, params, flops, 1, 'infer', peak, differences)
    meta = dict(kind='onnxruntime', **asdict(settings), threads_used=torch.get_num_threads(),
                configs=list(config_paths), device_name=backend.name(),
                onnxruntime_version=onnxruntime.__version__,
                matmul_peak_gflops=peak / 1e9, environment=environment())
    return dict(meta=meta, results=results)


def _pytorch_step(graph, image):
    def step():
        with torch.no_grad():
            return graph(image)
    return step


def _differences(name: str, graph, session, image) -> Dict[str, float]:
    """The largest |ONNX Runtime - PyTorch| over the float outputs (0 for the PyTorch row)."""
    with torch.no_grad():
        expected = [t.numpy() for t in graph(image)]
    found = session.run(None, {'image': image.numpy()})
    largest = 0.0
    for want, got in zip(expected, found):
        if want.shape != got.shape:
            largest = float('inf')
        elif want.size and want.dtype.kind == 'f':
            largest = max(largest, float(np.abs(want - got).max()))
    return {f'{name} (pytorch)': 0.0, f'{name} (onnxruntime)': largest}
