"""Exports a trained detector or segmentor, preprocessing to post-processing, to one ONNX file
of standard-domain operators, and lists the operators such a file uses."""
import warnings
from typing import Optional, Set, Tuple

import onnx
import torch
from torch import nn

from ..errors import InputError
from ..tasks import Task
from .detector_graph import TwoStageDetectorGraph
from .metadata import write_metadata

STANDARD_DOMAINS = ('', 'ai.onnx')
# LayerNormalization is an ONNX operator from opset 17; RoiAlign matches mmcv's aligned=True from
# opset 16 (half-pixel coordinates).
DEFAULT_OPSET = 17
MIN_OPSET = 17


# What tracing at H x W holds at least, per pixel: the float32 input image and its normalised
# copy (3 channels x 4 bytes each). The feature maps come on top of it.
TRACE_BYTES_PER_PIXEL_AT_LEAST = 24


def available_memory_bytes() -> Optional[int]:
    """The memory the kernel says can still be allocated (Linux ``MemAvailable``), or None."""
    try:
        with open('/proc/meminfo') as meminfo:
            for line in meminfo:
                if line.startswith('MemAvailable:'):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def check_export_memory(shape: Tuple[int, int]) -> None:
    """Refuses, in one line naming ``--shape``, an export whose trace needs more memory than is
    available even by the lower bound :data:`TRACE_BYTES_PER_PIXEL_AT_LEAST`."""
    height, width = shape
    needed = TRACE_BYTES_PER_PIXEL_AT_LEAST * height * width
    available = available_memory_bytes()
    if available is not None and needed > available:
        raise InputError(f'--shape {height} {width}: tracing at that size needs more than '
                         f'{needed / 2**30:.1f} GiB (the input image alone), and '
                         f'{available / 2**30:.1f} GiB are available; export at the size you '
                         f'will predict at, or with --dynamic.')


def export_graph(model: nn.Module, task: Task, fixed_size: bool) -> nn.Module:
    """The exportable graph of an mmdet two-stage detector with masks or an mmseg
    ``EncoderDecoder`` (eval mode, on CPU)."""
    return task.export_graph(model, fixed_size).eval()


def dynamic_axes(graph: nn.Module) -> dict:
    """Height and width of the image (and its batch, for segmentors) and the number of
    detections vary; everything else is fixed."""
    if isinstance(graph, TwoStageDetectorGraph):
        axes = {'image': {2: 'height', 3: 'width'}}
        axes.update({name: {0: 'detections'} for name in graph.output_names})
        return axes
    return {'image': {0: 'batch', 2: 'height', 3: 'width'},
            'seg_logits': {0: 'batch', 2: 'height', 3: 'width'},
            'labels': {0: 'batch', 1: 'height', 2: 'width'}}


def export_onnx(graph: nn.Module, out_file: str, shape: Tuple[int, int], dynamic: bool,
                metadata: dict, opset: int = DEFAULT_OPSET) -> onnx.ModelProto:
    """Writes ``graph`` traced on a (1, 3, *shape) image to ``out_file`` (TorchScript exporter:
    torchvision's NMS and RoIAlign have ONNX symbolics there) with ``metadata`` as JSON under
    the model's metadata key; returns the model as written."""
    if opset < MIN_OPSET:
        raise InputError(f'--opset {opset}: the graph needs opset {MIN_OPSET} or later '
                         f'(LayerNormalization, half-pixel RoiAlign).')
    example = torch.zeros((1, 3) + tuple(shape))
    # The tracer warns about every shape it reads as a Python number; the graph computes each one
    # it needs from tensors, which the tests check at several sizes.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        torch.onnx.export(graph, (example, ), out_file, dynamo=False, opset_version=opset,
                          input_names=['image'], output_names=list(graph.output_names),
                          dynamic_axes=dynamic_axes(graph) if dynamic else None)
    model = onnx.load(out_file)
    write_metadata(model, metadata)
    onnx.save(model, out_file)
    return model


def operators(model: onnx.ModelProto) -> Set[Tuple[str, str]]:
    """(domain, op_type) of every node, subgraphs (``If`` / ``Loop`` bodies) included."""
    found = set()
    pending = [model.graph]
    while pending:
        graph = pending.pop()
        for node in graph.node:
            found.add((node.domain, node.op_type))
            pending += [attr.g for attr in node.attribute if attr.type == attr.GRAPH]
            pending += [g for attr in node.attribute if attr.type == attr.GRAPHS
                        for g in attr.graphs]
    return found


def non_standard_operators(model: onnx.ModelProto) -> Set[Tuple[str, str]]:
    """Operators outside the standard ONNX domain (custom ops a stock runtime lacks)."""
    return {op for op in operators(model) if op[0] not in STANDARD_DOMAINS}
