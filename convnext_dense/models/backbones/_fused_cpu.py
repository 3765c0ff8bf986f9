"""oneDNN-fused kernels for the ConvNeXt block on CPU, and the one gate that decides when they run.

Why: on CPU the block's MLP is bound by memory traffic around its two GEMMs, not by the GEMMs.
Measured on a 2-core Xeon (torch 2.14.1, fp32, ConvNeXt-T first stage, 8 x 56 x 56 tokens):
``F.linear`` + ``F.gelu`` 28.7 ms, oneDNN linear with a GELU epilogue 16.8 ms; ``F.linear`` +
residual add 11.9 ms, oneDNN linear with an add epilogue 6.6 ms. Results are bit-identical (same
erf GELU, same accumulation order). Layer scale is folded into the second linear's weight and
bias (``gamma * (h W^T + b) = h (gamma W)^T + gamma b``), which reorders one multiplication and
changes results by float rounding only.

Depthwise 7x7 convolution backward: oneDNN's weight-gradient kernel reaches 4-8 GMAC/s on
ConvNeXt-T's training maps (batch 4 at 224: 7.2 ms at 96 x 56 x 56, 2.7 ms at 384 x 14 x 14, and
2.4-11.7 ms at 768 x 7 x 7 depending on the strides it is handed), while its forward kernel runs
at 40-60. :func:`_depthwise_weight_grad_by_tiles` recasts the weight gradient as a forward
depthwise conv: 5.2, 1.4 and 0.8 ms on those maps. On detection-size maps (2 x 96 x 200 x 336:
152 ms oneDNN, 208 ms tiled) oneDNN's kernel wins, hence the size limit. The input gradient is
the forward conv with the kernel flipped (0.8 ms against ~2 ms inside oneDNN's backward).

All inputs and outputs are NHWC (``(N, H, W, C)`` contiguous) except the depthwise convolution,
whose tensors are NCHW-shaped (channels_last in memory).
"""
from typing import NamedTuple, Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

# The depthwise weight gradient is computed by tiles of at most WEIGHT_GRAD_TILE a side on maps
# up to TILED_WEIGHT_GRAD_MAX_SIDE a side (see module doc), by oneDNN's own kernel above.
WEIGHT_GRAD_TILE = 28
TILED_WEIGHT_GRAD_MAX_SIDE = 56


def fused_cpu_path_applies(x: Tensor, enabled: bool) -> bool:
    """The single gate for every kernel in this module.

    True when ``enabled`` (the block's switch, off for stochastic depth while training) and
    ``x`` is an fp32 CPU tensor with oneDNN present, and none of these holds: autocast (it
    would hand these ops mixed dtypes; the plain path handles it), ``torch.compile`` /
    ``torch.export`` (inductor fuses the plain ops itself and cannot lower these with
    non-constant weights), TorchScript tracing or scripting (``torch.onnx.export``, FLOP
    counters: they must see standard aten ops only).
    """
    # Compiling first: dynamo cannot trace torch.backends.mkldnn.is_available(), and a graph
    # break in every block would leave the whole backbone eager.
    return (not torch.compiler.is_compiling() and not torch.jit.is_tracing()
            and not torch.jit.is_scripting() and enabled and x.device.type == 'cpu'
            and x.dtype == torch.float32 and torch.backends.mkldnn.is_available()
            and not torch.is_autocast_enabled('cpu'))


def bf16_fused_inference_applies(x: Tensor, enabled: bool) -> bool:
    """The gate of the bf16 inference path: bf16 CPU autocast without autograd (inference), on
    a CPU whose oneDNN runs bf16 GEMMs (AVX512-BF16 or AMX), and none of the exclusions of
    :func:`fused_cpu_path_applies` other than autocast itself. Under autocast with autograd
    the plain path runs (autocast's own casts)."""
    return (not torch.compiler.is_compiling() and not torch.jit.is_tracing()
            and not torch.jit.is_scripting() and enabled and x.device.type == 'cpu'
            and x.dtype in (torch.float32, torch.bfloat16) and torch.is_autocast_enabled('cpu')
            and torch.get_autocast_dtype('cpu') == torch.bfloat16
            and not torch.is_grad_enabled() and torch.backends.mkldnn.is_available()
            and torch.ops.mkldnn._is_mkldnn_bf16_supported())


def gelu_epilogue(activation: nn.Module) -> Optional[str]:
    """oneDNN's name for ``activation`` as a linear epilogue ('none' or 'tanh' GELU), or None
    when it is another activation, which then runs as its own module after the GEMM."""
    if type(activation) is nn.GELU:
        return activation.approximate
    return None


def scale_folding_pays(tokens: int, weight: Tensor) -> bool:
    """In training, folding layer scale into the weight costs passes over the weight (C x 4C,
    forward and backward) and saves passes over the output (tokens x C): worth it only when
    tokens outnumber the hidden width (false for ConvNeXt-T's 7 x 7 last stage at batch 4, where
    the weight is 16x the output). Inference folds once per weight update (PackedMlpWeights)."""
    return tokens >= weight.shape[1]


def linear_gelu(x: Tensor, weight: Tensor, bias: Tensor, approximate: str = 'none') -> Tensor:
    """``gelu(x @ weight.T + bias)`` in one oneDNN call; forward only (no autograd).
    ``approximate``: 'none' (erf) or 'tanh', as ``nn.GELU``.

    Shapes: x (..., K), weight (C, K), bias (C,) -> (..., C).
    """
    return torch.ops.mkldnn._linear_pointwise(x, weight, bias, 'gelu', [], approximate)


class LinearFunction(torch.autograd.Function):
    """``x @ weight.T + bias`` by oneDNN, which adds the bias inside the GEMM instead of first
    broadcasting it into the output as ``F.linear`` (``addmm``) does on CPU.

    Shapes: x (..., K), weight (C, K), bias (C,) -> (..., C).
    """

    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
        ctx.save_for_backward(x, weight)
        return torch.ops.mkldnn._linear_pointwise(x, weight, bias, 'none', [], 'none')

    @staticmethod
    def backward(ctx, grad_out: Tensor):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        grad_2d = grad_out.reshape(-1, grad_out.shape[-1])
        grad_x = (grad_2d @ weight).view(x.shape) if need_x else None
        grad_w = grad_2d.t() @ x.reshape(-1, x.shape[-1]) if need_w else None
        grad_b = grad_2d.sum(0) if need_b else None
        return grad_x, grad_w, grad_b


def linear(x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    """``F.linear`` with the bias added inside the GEMM; see :class:`LinearFunction`."""
    return LinearFunction.apply(x, weight, bias)


def linear_add(x: Tensor, weight: Tensor, bias: Tensor, residual: Tensor) -> Tensor:
    """``residual + x @ weight.T + bias`` in one oneDNN call; forward only (no autograd).

    Shapes: x (..., K), weight (C, K) (plain or packed), bias (C,), residual (..., C) -> (..., C).
    """
    return torch.ops.mkldnn._linear_pointwise.binary(x, residual.contiguous(), weight, bias,
                                                     'add')


class PackedMlp(NamedTuple):
    """A block's MLP weights for inference: oneDNN-packed, layer scale folded into the second,
    in the dtype the GEMMs run in (fp32, or bf16 under autocast)."""
    first_weight: Tensor
    second_weight: Tensor
    second_bias: Tensor


class PackedMlpWeights:
    """Caches :class:`PackedMlp` for a block and rebuilds it when a source tensor changes.

    oneDNN packs a plain weight into its blocked layout on every call; packing once saves
    ~8% of ConvNeXt-T inference on CPU (26.2 -> 28.3 images/s, batch 8, 2 threads), at the
    cost of a second copy of the MLP weights while inferring. A source counts as changed when
    its storage or its in-place version counter does (optimizer steps, ``load_state_dict``,
    ``.to()``); writes through ``param.data`` bump no counter, so the block also clears the
    cache on every ``train()`` / ``eval()``. The packed tensors are opaque oneDNN tensors, which
    cannot be copied or pickled, so copies and pickles of this cache start empty.
    """

    def __init__(self):
        self.clear()

    def clear(self) -> None:
        self._key: Optional[tuple] = None
        self._packed: Optional[PackedMlp] = None

    def __getstate__(self) -> dict:
        return {}

    def __setstate__(self, state: dict) -> None:
        self.clear()

    def get(self, first_weight: Tensor, second_weight: Tensor, second_bias: Tensor,
            scale: Optional[Tensor], dtype: torch.dtype = torch.float32) -> PackedMlp:
        sources = (first_weight, second_weight, second_bias, scale)
        if any(t is not None and t.is_inference() for t in sources):
            # Inference tensors have no version counter to watch: pack without caching.
            return self._pack(*sources, dtype)
        key = (dtype, ) + tuple(None if t is None else (t.data_ptr(), t._version)
                                for t in sources)
        if key != self._key:
            self._packed, self._key = self._pack(*sources, dtype), key
        return self._packed

    @staticmethod
    def _pack(first_weight: Tensor, second_weight: Tensor, second_bias: Tensor,
              scale: Optional[Tensor], dtype: torch.dtype) -> PackedMlp:
        with torch.no_grad():
            # Layer scale is folded in fp32, then the weights are rounded once to ``dtype``.
            folded_weight, folded_bias = fold_scale(second_weight, second_bias, scale)
            return PackedMlp(
                torch.ops.mkldnn._reorder_linear_weight(first_weight.to(dtype), None),
                torch.ops.mkldnn._reorder_linear_weight(folded_weight.to(dtype), None),
                folded_bias.to(dtype))


def fold_scale(weight: Tensor, bias: Tensor, scale: Optional[Tensor]):
    if scale is None:
        return weight, bias
    return weight * scale[:, None], bias * scale


class LinearScaleResidualFunction(torch.autograd.Function):
    """``residual + scale * (h @ weight.T + bias)`` with one oneDNN GEMM and an add epilogue.

    Shapes: h (..., K), weight (C, K), bias (C,), scale (C,) or None, residual (..., C) ->
    (..., C). The backward pass reuses the weight-gradient GEMM for the scale's gradient
    (``d scale_c = sum_k W_ck (g^T h)_ck + b_c sum_m g_mc``), so it needs no activation beyond h.
    """

    @staticmethod
    def forward(ctx, h: Tensor, weight: Tensor, bias: Tensor, scale: Optional[Tensor],
                residual: Tensor) -> Tensor:
        folded_weight, folded_bias = fold_scale(weight, bias, scale)
        ctx.save_for_backward(h, weight, bias, scale)
        return torch.ops.mkldnn._linear_pointwise.binary(h, residual.contiguous(), folded_weight,
                                                         folded_bias, 'add')

    @staticmethod
    def backward(ctx, grad_out: Tensor):
        h, weight, bias, scale = ctx.saved_tensors
        need_h, need_w, need_b, need_scale, need_residual = ctx.needs_input_grad
        grad_2d = grad_out.reshape(-1, grad_out.shape[-1])
        grad_h = grad_w = grad_b = grad_scale = None
        if need_h:
            folded_weight, _ = fold_scale(weight, bias, scale)
            grad_h = (grad_2d @ folded_weight).view(h.shape)
        if need_w or need_scale:
            unscaled_grad_w = grad_2d.t() @ h.reshape(-1, h.shape[-1])
            grad_w = unscaled_grad_w if scale is None else unscaled_grad_w * scale[:, None]
        if need_b or need_scale:
            grad_sum = grad_2d.sum(0)
            grad_b = grad_sum if scale is None else grad_sum * scale
        if need_scale:
            grad_scale = (weight * unscaled_grad_w).sum(1) + bias * grad_sum
        return (grad_h, grad_w if need_w else None, grad_b if need_b else None, grad_scale,
                grad_out if need_residual else None)


def linear_scale_residual(h: Tensor, weight: Tensor, bias: Tensor, scale: Optional[Tensor],
                          residual: Tensor) -> Tensor:
    """``residual + scale * (h @ weight.T + bias)``; see :class:`LinearScaleResidualFunction`."""
    return LinearScaleResidualFunction.apply(h, weight, bias, scale, residual)


def _depthwise_weight_grad_by_tiles(x: Tensor, grad_out: Tensor, kernel_size: int) -> Tensor:
    """Weight gradient of a stride-1 'same' depthwise conv, as a depthwise *forward* conv.

    ``dW[c, i, j] = sum_{n,h,w} x_pad[n, c, h+i, w+j] * g[n, c, h, w]``. Cutting g into T x T
    tiles (zero-padded) turns each (image, channel, tile) into one channel of a depthwise conv
    whose input is the tile's (T + k - 1)^2 window of x_pad and whose kernel is the g tile; its
    k x k outputs summed over images and tiles are dW. oneDNN runs that forward conv several
    times faster than its own weight-gradient kernel on small maps (see module doc).
    Shapes: x, grad_out (N, C, H, W) -> (C, 1, k, k).
    """
    n, c, h, w = x.shape
    tile_h, tile_w = min(h, WEIGHT_GRAD_TILE), min(w, WEIGHT_GRAD_TILE)
    rows, cols = -(-h // tile_h), -(-w // tile_w)
    pad = kernel_size // 2
    x_pad = F.pad(x, (pad, pad + cols * tile_w - w, pad, pad + rows * tile_h - h))
    g_pad = F.pad(grad_out, (0, cols * tile_w - w, 0, rows * tile_h - h))
    groups = n * c * rows * cols
    windows = x_pad.unfold(2, tile_h + 2 * pad, tile_h).unfold(3, tile_w + 2 * pad, tile_w)
    windows = windows.reshape(1, groups, tile_h + 2 * pad, tile_w + 2 * pad)
    kernels = g_pad.reshape(n, c, rows, tile_h, cols, tile_w).permute(0, 1, 2, 4, 3, 5)
    kernels = kernels.reshape(groups, 1, tile_h, tile_w)
    partial = F.conv2d(windows, kernels, groups=groups)
    return partial.view(n, c, rows * cols, kernel_size, kernel_size).sum((0, 2)).unsqueeze(1)


class DepthwiseConv2dFunction(torch.autograd.Function):
    """Depthwise ``conv2d`` (stride 1, 'same' padding) with a faster backward pass on CPU.

    The input gradient is the same conv of grad_out with the kernel flipped (oneDNN's forward
    kernel); the weight gradient is computed by tiles on maps up to
    :data:`TILED_WEIGHT_GRAD_MAX_SIDE` a side, by oneDNN's backward kernel (NHWC) above.
    Shapes: x (N, C, H, W), weight (C, 1, k, k), bias (C,) -> (N, C, H, W).
    """

    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
        ctx.save_for_backward(x, weight)
        return F.conv2d(x, weight, bias, padding=weight.shape[-1] // 2, groups=x.shape[1])

    @staticmethod
    def backward(ctx, grad_out: Tensor):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        kernel_size, channels = weight.shape[-1], x.shape[1]
        grad_x = grad_w = grad_b = None
        if need_x:
            grad_x = F.conv2d(grad_out, weight.flip(2, 3), padding=kernel_size // 2,
                              groups=channels)
        if need_w and max(x.shape[-2:]) <= TILED_WEIGHT_GRAD_MAX_SIDE:
            grad_w = _depthwise_weight_grad_by_tiles(x, grad_out, kernel_size)
        elif need_w:
            # A (C, 1, k, k) weight counts as contiguous in both formats, so .contiguous() keeps
            # its strides and oneDNN would follow them; lay it out explicitly.
            nhwc_weight = torch.empty_like(weight, memory_format=torch.channels_last)
            grad_w = torch.ops.aten.convolution_backward(
                grad_out.contiguous(memory_format=torch.channels_last),
                x.contiguous(memory_format=torch.channels_last), nhwc_weight.copy_(weight),
                [channels], [1, 1], [kernel_size // 2] * 2, [1, 1], False, [0, 0], channels,
                [False, True, False])[1]
        if need_b:
            grad_b = grad_out.sum((0, 2, 3))
        return grad_x, grad_w, grad_b


def depthwise_conv2d(x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    """Depthwise same-size convolution; see :class:`DepthwiseConv2dFunction`."""
    return DepthwiseConv2dFunction.apply(x, weight, bias)
