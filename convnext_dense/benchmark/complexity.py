"""Parameters and FLOPs, counted the same way for every model (mmengine's fvcore-derived
``FlopAnalyzer``, which counts one fused multiply-add as one FLOP, as the ConvNeXt paper does)."""
from typing import Sequence

import torch
from mmengine.analysis import FlopAnalyzer
from torch import nn


def count_parameters(model: nn.Module) -> int:
    """Number of parameter elements (shared parameters counted once)."""
    return sum(p.numel() for p in model.parameters())


def count_flops(model: nn.Module, inputs: Sequence) -> int:
    """FLOPs (multiply-adds) of one forward pass of ``model(*inputs)``.

    The model is traced (so ConvNeXt blocks run their plain PyTorch ops, which the counter
    sees, not fused oneDNN kernels), in eval mode, without gradients.
    """
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            analyzer = FlopAnalyzer(model, tuple(inputs))
            analyzer.unsupported_ops_warnings(False)
            analyzer.uncalled_modules_warnings(False)
            return int(analyzer.total())
    finally:
        model.train(was_training)
