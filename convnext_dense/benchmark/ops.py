"""Times the detection ops we serve ourselves side by side: RoI feature extraction (our kernels
against mmdet's loop over mmcv's RoIAlign) and soft-NMS (ours, through mmcv's ``soft_nms``,
against torchvision's hard NMS on the same boxes).

A step is one call (``roi_align``: forward and backward of the extractor; ``soft_nms``: one
call per method), so the report's rates are calls per second (``meta['unit'] = 'call'``). RoI
extraction also reports each variant's relative error against float64 extraction of the same
maps on the CPU, of the features (``meta['relative_error_vs_float64']``) and of the maps'
gradients (``meta['gradient_relative_error_vs_float64']``).
"""
from dataclasses import asdict, dataclass
from typing import Callable, Dict, Tuple

import torch

from ..engine.precision import set_tf32
from .device import device_backend, matmul_peak_flops, torch_threads
from .harness import (DTYPES, RunSettings, autocast_context, measure_peak_memory,
                      time_interleaved)
from .report import build_results, environment

OPS = ('roi_align', 'soft_nms')
BOX_LAYOUTS = ('uniform', 'clustered')
FPN_STRIDES = (4, 8, 16, 32)


@dataclass
class OpBenchmarkSettings(RunSettings):
    """What ``tools/benchmark.py --op`` was asked to measure (recorded in the report)."""
    op: str = 'soft_nms'
    count: int = 2000  # soft_nms: boxes; roi_align: RoIs over the batch
    layout: str = 'uniform'  # soft_nms: boxes spread over the image or around 20 objects
    img_size: int = 800  # the image the boxes / RoIs lie in
    batch_size: int = 2  # roi_align: images (maps) per call
    channels: int = 256  # roi_align: FPN channels
    dtype: str = 'fp32'  # roi_align: the maps' autocast dtype


def random_boxes(count: int, img_size: int, layout: str,
                 generator: torch.Generator) -> Tuple[torch.Tensor, torch.Tensor]:
    """(count, 4) boxes and (count,) scores: spread uniformly (sides up to a quarter of the
    image), or jittered around 20 objects as a detector's outputs are."""
    if layout not in BOX_LAYOUTS:
        raise ValueError(f'--box-layout {layout!r}: choose one of {BOX_LAYOUTS}.')
    scores = torch.rand(count, generator=generator)
    if layout == 'uniform':
        corner = torch.rand(count, 2, generator=generator) * img_size
        size = torch.rand(count, 2, generator=generator) * img_size / 4 + 1
        return torch.cat([corner, corner + size], 1), scores
    centres = torch.rand(20, 2, generator=generator) * img_size
    sides = torch.rand(20, 2, generator=generator) * img_size / 5 + 20
    owner = torch.randint(0, 20, (count, ), generator=generator)
    centre = centres[owner] + torch.randn(count, 2, generator=generator) * sides[owner] * 0.15
    size = sides[owner] * (1 + torch.randn(count, 2, generator=generator) * 0.15)
    return torch.cat([centre - size / 2, centre + size / 2], 1), scores


def soft_nms_steps(settings: OpBenchmarkSettings, device: torch.device) -> Dict[str, Callable]:
    """mmcv's ``soft_nms`` (our kernel; it runs on the CPU, as mmcv's does) per method, and
    torchvision's ``nms`` on ``device``, at IoU 0.5 (the V2 configs' soft-NMS threshold)."""
    from mmcv.ops import soft_nms
    from torchvision.ops import nms
    generator = torch.Generator().manual_seed(settings.seed)
    boxes, scores = random_boxes(settings.count, settings.img_size, settings.layout, generator)
    steps = {f'soft_nms {method}': (lambda method=method: soft_nms(
        boxes, scores, iou_threshold=0.5, sigma=0.5, min_score=1e-3, method=method))
        for method in ('linear', 'gaussian', 'naive')}
    boxes_on, scores_on = boxes.to(device), scores.to(device)
    steps['torchvision nms'] = lambda: nms(boxes_on, scores_on, 0.5)
    return steps


def roi_extractors(channels: int) -> Dict[str, object]:
    """Our extractor with each of its kernels, and mmdet's ``SingleRoIExtractor``, as the
    Mask R-CNN configs set them up (7 x 7, adaptive sampling, aligned)."""
    from mmdet.models.roi_heads.roi_extractors import SingleRoIExtractor

    from ..models.roi_extractors.roi_align_extractor import KERNELS, RoIAlignExtractor
    cfg = dict(roi_layer=dict(type='RoIAlign', output_size=7, sampling_ratio=0, aligned=True),
               out_channels=channels, featmap_strides=list(FPN_STRIDES))
    extractors = {'mmdet SingleRoIExtractor': SingleRoIExtractor(**cfg)}
    for kernel in sorted(KERNELS):
        extractors[f'ours ({kernel})'] = RoIAlignExtractor(**cfg, kernel=kernel)
    return extractors


def roi_align_inputs(settings: OpBenchmarkSettings, device: torch.device):
    """FPN maps (batch, channels, size / stride ...) and RoIs (count, 5) spread over them."""
    generator = torch.Generator().manual_seed(settings.seed)
    feats = tuple(torch.randn(settings.batch_size, settings.channels,
                              settings.img_size // s, settings.img_size // s,
                              generator=generator) for s in FPN_STRIDES)
    boxes, _ = random_boxes(settings.count, settings.img_size, 'uniform', generator)
    image = torch.randint(0, settings.batch_size, (settings.count, 1), generator=generator)
    rois = torch.cat([image.float(), boxes.clamp(0, settings.img_size)], 1)
    return tuple(f.to(device) for f in feats), rois.to(device)


def roi_align_steps(settings: OpBenchmarkSettings, device: torch.device
                    ) -> Tuple[Dict[str, Callable], Dict[str, float], Dict[str, float]]:
    """Forward and backward of each extractor under the settings' autocast dtype, and each
    one's relative error (norm of the difference over the norm) against float64 on the CPU:
    of the pooled features, and of the gradients of the maps under a random upstream
    gradient."""
    feats, rois = roi_align_inputs(settings, device)
    dtype = None if settings.dtype == 'fp32' else DTYPES[settings.dtype]
    maps = tuple(f.to(dtype or torch.float32).requires_grad_() for f in feats)
    extractors = roi_extractors(settings.channels)
    reference_maps = tuple(f.detach().cpu().double().requires_grad_() for f in maps)
    reference = extractors['mmdet SingleRoIExtractor'](reference_maps, rois.cpu().double())
    upstream = torch.randn(reference.shape, dtype=torch.float64,
                           generator=torch.Generator().manual_seed(settings.seed))
    reference_grads = torch.autograd.grad((reference * upstream).sum(), reference_maps)
    steps, errors, gradient_errors = {}, {}, {}
    for name, extractor in extractors.items():

        def step(extractor=extractor):
            with autocast_context(device.type, dtype):
                pooled = extractor(maps, rois)
            pooled.float().sum().backward()
            return pooled

        steps[name] = step
        leaves = tuple(m.detach().clone().requires_grad_() for m in maps)
        with autocast_context(device.type, dtype):
            pooled = extractor(leaves, rois)
        grads = torch.autograd.grad((pooled.double() * upstream.to(device)).sum(), leaves)
        errors[name] = _relative_error([pooled.detach().cpu()], [reference.detach()])
        gradient_errors[name] = _relative_error([g.cpu() for g in grads], reference_grads)
    return steps, errors, gradient_errors


def _relative_error(values, references) -> float:
    difference = torch.cat([(v.double() - r).flatten() for v, r in zip(values, references)])
    return (difference.norm() / torch.cat([r.flatten() for r in references]).norm()).item()


def run_op_benchmark(settings: OpBenchmarkSettings, show_progress: bool = True) -> dict:
    """Times ``settings.op``'s variants side by side; returns the report dict."""
    if settings.op not in OPS:
        raise ValueError(f'--op {settings.op!r}: choose one of {OPS}.')
    with torch_threads(settings.threads):
        backend = device_backend(settings.device)
        set_tf32(settings.tf32)
        errors = gradient_errors = None
        if settings.op == 'soft_nms':
            steps = soft_nms_steps(settings, backend.device)
        else:
            steps, errors, gradient_errors = roi_align_steps(settings, backend.device)
        timings = time_interleaved(steps, backend, settings.warmup, settings.rounds,
                                   show_progress)
        memory = measure_peak_memory(steps, backend)
        peak = matmul_peak_flops(backend, torch.float32)
    names = dict.fromkeys(steps, 0)
    results = build_results(timings, memory, names, names, 1, 'infer', peak)
    meta = dict(kind='op', unit='call', mode='train' if settings.op == 'roi_align' else 'infer',
                **{k: v for k, v in asdict(settings).items() if k != 'batch_size'},
                batch_size=1, images_per_call=settings.batch_size,
                threads_used=torch.get_num_threads(), device_name=backend.name(),
                matmul_peak_gflops=peak / 1e9, environment=environment())
    if errors is not None:
        meta['relative_error_vs_float64'] = errors
        meta['gradient_relative_error_vs_float64'] = gradient_errors
    return dict(meta=meta, results=results)
