"""Adaptive average pooling in standard ONNX operators for any input size.

ONNX has no adaptive pooling, and torch's exporter turns ``nn.AdaptiveAvgPool2d`` into a fixed
``AveragePool`` only when it knows the input size and the output size divides it; UperNet's
pyramid pooling (bins 1, 2, 3, 6) meets neither in a graph for any image size.
"""
from typing import Optional, Tuple

import torch
from torch import nn
from torch.nn.modules.utils import _pair


def pooling_matrix(size, bins: int, like: torch.Tensor) -> torch.Tensor:
    """(bins, size): row i averages input positions [floor(i*size/bins), ceil((i+1)*size/bins)),
    PyTorch's adaptive pooling windows, from ``size`` as the graph computes it."""
    index = torch.arange(bins, device=like.device)
    start = torch.div(index * size, bins, rounding_mode='floor')
    end = torch.div((index + 1) * size + bins - 1, bins, rounding_mode='floor')
    position = torch.arange(size, device=like.device)
    inside = (position[None] >= start[:, None]) & (position[None] < end[:, None])
    return inside.to(like.dtype) / (end - start)[:, None].to(like.dtype)


class MatmulAdaptiveAvgPool2d(nn.Module):
    """``nn.AdaptiveAvgPool2d(output_size)`` as two matrix products with pooling matrices
    built from the input's size: (N, C, H, W) -> (N, C, h, w), the same windows and values (to
    float rounding)."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size: Tuple[Optional[int], Optional[int]] = _pair(output_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2:]
        bins_h, bins_w = self.output_size  # None keeps that dimension, as in PyTorch
        if bins_h is not None:
            x = pooling_matrix(height, bins_h, x) @ x
        if bins_w is not None:
            x = x @ pooling_matrix(width, bins_w, x).t()
        return x


def replace_adaptive_pooling(model: nn.Module) -> int:
    """Swaps every ``nn.AdaptiveAvgPool2d`` in ``model`` (in place) for its matrix form;
    returns how many."""
    targets = [(name, module) for name, module in model.named_modules()
               if isinstance(module, nn.AdaptiveAvgPool2d)]
    for name, module in targets:
        parent_name, _, child = name.rpartition('.')
        setattr(model.get_submodule(parent_name) if parent_name else model, child,
                MatmulAdaptiveAvgPool2d(module.output_size))
    return len(targets)
