"""ConvNeXt V1 / V2 backbone for dense prediction.

Input: images (N, in_channels, H, W). Output: a tuple with one map per entry of ``out_indices``;
stage i has ``arch.channels[i]`` channels at stride 4 * 2**i (4, 8, 16, 32), and each emitted map
goes through its own channels-first LayerNorm (``norm{i}``), as in the official detection and
segmentation backbones.

Parameter names follow the official ConvNeXt repository (``downsample_layers.i``,
``stages.i.b.{dwconv,norm,pwconv1,pwconv2,gamma,grn}``, ``norm{i}``), so the official layer-decay
recipes and trained detector checkpoints name the same tensors here. Other layouts (timm,
torchvision, mmpretrain) are converted by :mod:`convnext_dense.checkpoint.layouts`.
"""
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from ...errors import ImageTooSmallError
from ._fused_cpu import (PackedMlpWeights, bf16_fused_inference_applies, depthwise_conv2d,
                         fold_scale, fused_cpu_path_applies, gelu_epilogue, linear, linear_add,
                         linear_gelu, linear_scale_residual, scale_folding_pays)


@dataclass(frozen=True)
class ConvNeXtArch:
    """Blocks per stage and channels per stage (four stages for every published size; custom
    archs may have any number, as in mmpretrain)."""
    depths: Tuple[int, ...]
    channels: Tuple[int, ...]

    @property
    def num_stages(self) -> int:
        return len(self.depths)


# V1 sizes (tiny..xlarge) from Liu et al. 2022; atto..nano and huge from ConvNeXt V2
# (Woo et al. 2023). V2 differs from V1 by use_grn=True and no layer scale, not by its table.
ARCH_SETTINGS: Dict[str, ConvNeXtArch] = {
    'atto': ConvNeXtArch((2, 2, 6, 2), (40, 80, 160, 320)),
    'femto': ConvNeXtArch((2, 2, 6, 2), (48, 96, 192, 384)),
    'pico': ConvNeXtArch((2, 2, 6, 2), (64, 128, 256, 512)),
    'nano': ConvNeXtArch((2, 2, 8, 2), (80, 160, 320, 640)),
    'tiny': ConvNeXtArch((3, 3, 9, 3), (96, 192, 384, 768)),
    'small': ConvNeXtArch((3, 3, 27, 3), (96, 192, 384, 768)),
    'base': ConvNeXtArch((3, 3, 27, 3), (128, 256, 512, 1024)),
    'large': ConvNeXtArch((3, 3, 27, 3), (192, 384, 768, 1536)),
    'xlarge': ConvNeXtArch((3, 3, 27, 3), (256, 512, 1024, 2048)),
    'huge': ConvNeXtArch((3, 3, 27, 3), (352, 704, 1408, 2816)),
}


def resolve_arch(arch: Union[str, dict, ConvNeXtArch]) -> ConvNeXtArch:
    """An arch by name (``'tiny'``), by dict (``dict(depths=[...], channels=[...])``) or as is."""
    if isinstance(arch, ConvNeXtArch):
        return arch
    if isinstance(arch, str):
        if arch not in ARCH_SETTINGS:
            raise ValueError(f'Unknown ConvNeXt arch {arch!r}; choose one of '
                             f'{sorted(ARCH_SETTINGS)} or pass dict(depths=..., channels=...).')
        return ARCH_SETTINGS[arch]
    if isinstance(arch, dict):
        missing = {'depths', 'channels'} - set(arch)
        if missing:
            raise ValueError(f'ConvNeXt arch dict {arch!r} lacks key(s) {sorted(missing)}.')
        depths, channels = tuple(arch['depths']), tuple(arch['channels'])
        if not depths or len(depths) != len(channels):
            raise ValueError(f'ConvNeXt arch needs as many depths as channels (one per stage, '
                             f'at least one), got depths={depths}, channels={channels}.')
        return ConvNeXtArch(depths, channels)
    raise TypeError(f'ConvNeXt arch must be a str or dict, got {type(arch).__name__}: {arch!r}')


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of an NCHW tensor (the paper's "channels_first" LN).

    The permutes are views; on a channels_last tensor the normalised dim is already innermost.
    """

    def __init__(self, num_channels: int, eps: float = 1e-6):
        super().__init__(num_channels, eps=eps)

    def forward(self, x: Tensor) -> Tensor:
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


# Slice size for GlobalResponseNorm.channel_scale's reduction (about an L2 cache).
GRN_SLICE_BYTES = 1 << 20


class GlobalResponseNorm(nn.Module):
    """ConvNeXt V2's GRN on NHWC input (N, H, W, C): x + gamma * (x * Nx) + beta, where Nx is
    each channel's spatial L2 norm divided by the mean of those norms over channels.

    The norms are computed and divided in fp32 whatever the input dtype: in fp16 a norm over a
    large map passes 65504 (activations of 3000 over 64 x 64 pixels), and inf / inf gives NaN
    (ConvNeXt-V2 issue 66, a V2 detector in fp16 "detects nothing"). Nx is a ratio near 1, so
    it goes back to the input dtype safely. (LayerNorm needs no such care: torch's kernels
    keep its statistics in fp32 for fp16 / bf16 input.)
    """

    def __init__(self, num_channels: int, eps: float = 1e-6):
        super().__init__()
        self.gamma = nn.Parameter(torch.zeros(num_channels))
        self.beta = nn.Parameter(torch.zeros(num_channels))
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        spatial_norm = torch.linalg.vector_norm(x, ord=2, dim=(1, 2), keepdim=True,
                                                dtype=torch.float32)
        normalised = spatial_norm / (spatial_norm.mean(dim=-1, keepdim=True) + self.eps)
        return x + torch.addcmul(self.beta, self.gamma, x * normalised.to(x.dtype))

    def channel_scale(self, x: Tensor) -> Tensor:
        """The (N, 1, 1, C) factors s with ``GRN(x) = x * s + beta``, s = 1 + gamma * Nx, for
        the fused inference path, which multiplies them into x in place and folds beta into
        the next layer's bias. No gradient."""
        flat = x.reshape(x.shape[0], -1, x.shape[-1]).float()
        # In cache-sized slices of positions: the squares of a whole early-stage batch would
        # be a temporary so large (> 32 MB) that the allocator maps fresh pages for it on
        # every call, which costs ten times the arithmetic (ConvNeXt V2-T, stage 1).
        rows = max(1, GRN_SLICE_BYTES // (flat.shape[0] * flat.shape[2] * flat.element_size()))
        squares = sum(part.square().sum(dim=1) for part in flat.split(rows, dim=1))
        spatial_norm = squares.sqrt()
        normalised = spatial_norm / (spatial_norm.mean(dim=-1, keepdim=True) + self.eps)
        scale = 1 + self.gamma * normalised
        return scale.view(x.shape[0], 1, 1, x.shape[-1]).to(x.dtype)


def keep_mask(x: Tensor, drop_prob: float) -> Tensor:
    """Stochastic depth's draw: (N, 1, ..., 1) of ``x``'s dtype, 1 for the samples kept (with
    probability 1 - ``drop_prob``) and 0 for those dropped. One ``torch.rand`` value per sample,
    as mmcv's and timm's ``DropPath`` draw, so the same seed keeps the same samples."""
    random = torch.rand((x.shape[0], ) + (1, ) * (x.dim() - 1), dtype=x.dtype, device=x.device)
    return (1.0 - drop_prob + random).floor_()


def drop_path(x: Tensor, drop_prob: float) -> Tensor:
    """Stochastic depth: each sample's ``x`` is zeroed with probability ``drop_prob`` and the
    survivors scaled by 1 / (1 - drop_prob) (see :func:`keep_mask`)."""
    return x.div(1.0 - drop_prob) * keep_mask(x, drop_prob)


class DropPath(nn.Module):
    """:func:`drop_path` while training, identity in eval mode. Any shape (N, ...)."""

    def __init__(self, drop_prob: float):
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x: Tensor) -> Tensor:
        return drop_path(x, self.drop_prob) if self.training else x

    def extra_repr(self) -> str:
        return f'drop_prob={self.drop_prob}'


class ConvNeXtBlock(nn.Module):
    """dwconv 7x7 -> LN -> Linear(C, 4C) -> GELU [-> GRN] -> Linear(4C, C) [* gamma] -> + x.

    Input and output: (N, C, H, W). The MLP runs on NHWC with ``nn.Linear``, which is faster
    than 1x1 convolutions on NCHW for these widths (timm measured the same). On fp32 CPU tensors
    the block runs oneDNN-fused kernels (:mod:`._fused_cpu`; same parameters, same results up to
    float rounding) while ``fused`` is True; with stochastic depth while training, only the
    samples kept run the residual branch. ``act`` is any activation module (GELU by default);
    GELU is fused into the first GEMM.
    """

    def __init__(self, channels: int, drop_path: float = 0.0, layer_scale_init_value: float = 1e-6,
                 use_grn: bool = False, fused: bool = True, act: Optional[nn.Module] = None,
                 norm_eps: float = 1e-6):
        super().__init__()
        hidden = 4 * channels
        self.dwconv = nn.Conv2d(channels, channels, kernel_size=7, padding=3, groups=channels)
        self.norm = nn.LayerNorm(channels, eps=norm_eps)
        self.pwconv1 = nn.Linear(channels, hidden)
        self.act = nn.GELU() if act is None else act
        self.grn = GlobalResponseNorm(hidden) if use_grn else None
        self.pwconv2 = nn.Linear(hidden, channels)
        self.gamma = (nn.Parameter(torch.full((channels, ), float(layer_scale_init_value)))
                      if layer_scale_init_value > 0 else None)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.fused = fused
        self.packed_weights = PackedMlpWeights()

    def forward(self, x: Tensor) -> Tensor:
        if self.training and isinstance(self.drop_path, DropPath):
            return self._forward_stochastic_depth(x)
        if bf16_fused_inference_applies(x, enabled=self.fused):
            return self._forward_fused_inference(x, torch.bfloat16)
        if fused_cpu_path_applies(x, enabled=self.fused):
            return self._forward_fused(x)
        return self._forward_plain(x)

    def _forward_plain(self, x: Tensor) -> Tensor:
        return x + self.drop_path(self._residual_branch_plain(x))

    def _residual_branch_plain(self, x: Tensor) -> Tensor:
        x = self.dwconv(x).permute(0, 2, 3, 1)
        x = self.act(self.pwconv1(self.norm(x)))
        if self.grn is not None:
            x = self.grn(x)
        x = self.pwconv2(x)
        if self.gamma is not None:
            x = x * self.gamma
        return x.permute(0, 3, 1, 2)

    def _forward_stochastic_depth(self, x: Tensor) -> Tensor:
        """Training with stochastic depth: the same draw and result as the plain path (up to
        float rounding), but on CPU the residual branch runs only on the samples it keeps,
        scaled by 1 / keep probability (fused where the fused path applies, else plain, as
        under autocast): a dropped sample's branch would be multiplied by zero, so its
        arithmetic (a drop_path_rate-th of the block's, forward and backward) is never spent.
        Compilers and tracers get the plain path, whose shapes do not depend on the draw."""
        fused = fused_cpu_path_applies(x, enabled=self.fused)
        if not fused and (x.device.type != 'cpu' or torch.compiler.is_compiling()
                          or torch.jit.is_tracing() or torch.jit.is_scripting()):
            return self._forward_plain(x)
        keep_prob = 1.0 - self.drop_path.drop_prob
        kept = keep_mask(x, self.drop_path.drop_prob).view(-1).nonzero().view(-1)
        if kept.numel() == 0:
            # Every parameter still gets its (zero) gradient, as on the plain path: optimizers
            # and DistributedDataParallel expect each parameter used in every step.
            return x + sum(p.sum() for p in self.parameters() if p.requires_grad) * 0.0
        survivors = x if kept.numel() == x.shape[0] else x.index_select(0, kept)
        if fused:
            updated = self._forward_fused_differentiable(survivors, 1.0 / keep_prob)
        else:
            updated = survivors + self._residual_branch_plain(survivors).div(keep_prob)
        if kept.numel() == x.shape[0]:
            return updated
        # Under autocast the branch may come out in fp32 from a bf16 input, as x + branch does.
        return x.to(updated.dtype).index_copy(0, kept, updated)

    def _forward_fused(self, x: Tensor) -> Tensor:
        needs_grad = torch.is_grad_enabled() and (x.requires_grad
                                                  or self.pwconv1.weight.requires_grad)
        if needs_grad:
            return self._forward_fused_differentiable(x)
        return self._forward_fused_inference(x)

    def _forward_fused_differentiable(self, x: Tensor, branch_scale: float = 1.0) -> Tensor:
        """``x`` plus the residual branch times ``branch_scale`` (stochastic depth's 1 / keep
        probability, else 1)."""
        y = depthwise_conv2d(x, self.dwconv.weight, self.dwconv.bias).permute(0, 2, 3, 1)
        y = self.act(linear(self.norm(y), self.pwconv1.weight, self.pwconv1.bias))
        if self.grn is not None:
            y = self.grn(y)
        shortcut = x.permute(0, 2, 3, 1)
        scale = self.gamma
        if branch_scale != 1.0:
            scale = (y.new_full((self.pwconv2.out_features, ), branch_scale) if scale is None
                     else scale * branch_scale)
        if scale is None or scale_folding_pays(y.numel() // y.shape[-1], self.pwconv2.weight):
            y = linear_scale_residual(y, self.pwconv2.weight, self.pwconv2.bias, scale, shortcut)
        else:
            y = torch.addcmul(shortcut, linear(y, self.pwconv2.weight, self.pwconv2.bias), scale)
        return y.permute(0, 3, 1, 2)

    def _forward_fused_inference(self, x: Tensor, dtype: torch.dtype = torch.float32) -> Tensor:
        """Inference with packed weights and fused epilogues. ``dtype`` bf16 (under bf16
        autocast): the depthwise conv and the GEMMs run in bf16 as autocast would run them, but
        with weights rounded once per update instead of on every call, and the residual sum in
        fp32 where autocast's is (a block with layer scale)."""
        packed = self.packed_weights.get(self.pwconv1.weight, self.pwconv2.weight,
                                         self.pwconv2.bias, self.gamma, dtype)
        with torch.autocast('cpu', enabled=False):
            y = F.conv2d(x.to(dtype), self.dwconv.weight.to(dtype), self.dwconv.bias.to(dtype),
                         padding=self.dwconv.padding, groups=self.dwconv.groups)
            y = self.norm(y.permute(0, 2, 3, 1))
            first_bias = self.pwconv1.bias.to(dtype)
            approximate = gelu_epilogue(self.act)
            if approximate is None:
                y = self.act(linear(y, packed.first_weight, first_bias))
            else:
                y = linear_gelu(y, packed.first_weight, first_bias, approximate)
            bias = packed.second_bias
            if self.grn is not None:
                # GRN as a per-sample channel scale of y (this block's own temporary, so in
                # place) and its beta folded into the bias: no GRN-sized temporaries.
                y.mul_(self.grn.channel_scale(y))
                weight, _ = fold_scale(self.pwconv2.weight, self.pwconv2.bias, self.gamma)
                bias = bias + (weight @ self.grn.beta).to(dtype)
            shortcut = x.permute(0, 2, 3, 1)
            if dtype == torch.float32:
                y = linear_add(y, packed.second_weight, bias, shortcut)
            else:
                residual_dtype = torch.float32 if self.gamma is not None else x.dtype
                y = torch.add(shortcut.to(residual_dtype),
                              linear(y, packed.second_weight, bias))
        return y.permute(0, 3, 1, 2)

    def train(self, mode: bool = True) -> 'ConvNeXtBlock':
        """Sets the mode and drops the packed inference weights (repacked on the next
        inference), so changes made through ``param.data``, which no version counter sees
        (mmengine's EMA swap does this before validation), take effect at ``eval()``."""
        self.packed_weights.clear()
        return super().train(mode)


def _stem(in_channels: int, out_channels: int, patch_size: int, norm_eps: float) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=patch_size, stride=patch_size),
        LayerNorm2d(out_channels, norm_eps))


def _downsample(in_channels: int, out_channels: int, norm_eps: float) -> nn.Sequential:
    return nn.Sequential(
        LayerNorm2d(in_channels, norm_eps),
        nn.Conv2d(in_channels, out_channels, kernel_size=2, stride=2))


def _linear_drop_path_rates(max_rate: float, num_blocks: int) -> List[float]:
    """0 for the first block up to ``max_rate`` for the last (plain floats, so the model can be
    built on the meta device)."""
    if num_blocks == 1:
        return [0.0]
    return [max_rate * b / (num_blocks - 1) for b in range(num_blocks)]


def _normalise_out_indices(out_indices: Union[int, Sequence[int]],
                           num_stages: int) -> Tuple[int, ...]:
    indices = (out_indices, ) if isinstance(out_indices, int) else tuple(out_indices)
    if not indices:
        raise ValueError('ConvNeXt out_indices is empty; give at least one stage index.')
    for index in indices:
        if not -num_stages <= index < num_stages:
            raise ValueError(f'ConvNeXt out_indices entry {index} is out of range '
                             f'[-{num_stages}, {num_stages - 1}].')
    return tuple(sorted({index % num_stages for index in indices}))


# mmpretrain's ConvNeXt arguments that select something this backbone does not build: the
# value each must have, and why (the error names both).
_FIXED_MMPRETRAIN_ARGUMENTS = {
    'gap_before_final_norm': (False, 'True pools each map to a vector for classification; '
                              'dense prediction needs the maps (mmpretrain default True, ours '
                              'False)'),
    'linear_pw_conv': (True, 'False builds the pointwise layers as 1x1 convolutions on NCHW; '
                       'here they are nn.Linear on NHWC, the same function with (out, in) '
                       'weights: squeeze 1x1-conv weights to (out, in) to load such a '
                       'checkpoint'),
}
_LAYER_NORM_TYPES = ('LN2d', 'LN', 'LayerNorm', 'LayerNorm2d')


def _refuse_unsupported(name: str, value) -> None:
    required, why = _FIXED_MMPRETRAIN_ARGUMENTS[name]
    if value != required:
        raise ValueError(f'ConvNeXt {name}={value!r} is not supported: {why}.')


def _layer_norm_eps(norm_cfg: Optional[dict]) -> float:
    """The eps of mmpretrain's ``norm_cfg``; only LayerNorm over channels (its default) is the
    paper's, and what every published checkpoint was trained with."""
    if norm_cfg is None:
        return 1e-6
    settings = dict(norm_cfg)
    norm_type = settings.pop('type', 'LN2d')
    eps = settings.pop('eps', 1e-6)
    settings.pop('requires_grad', None)
    if norm_type not in _LAYER_NORM_TYPES or settings:
        raise ValueError(f'ConvNeXt norm_cfg={norm_cfg!r} is not supported: its norms are '
                         f"LayerNorms over channels (type 'LN2d', optional eps), as in the "
                         f'paper and every published checkpoint.')
    return float(eps)


def build_activation(act_cfg: Optional[dict]) -> nn.Module:
    """An activation from mmpretrain's ``act_cfg`` (``dict(type='GELU')`` by default): any
    ``torch.nn`` activation by class name, with the remaining keys as its arguments."""
    settings = dict(act_cfg or dict(type='GELU'))
    name = settings.pop('type')
    cls = getattr(nn.modules.activation, name, None) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(f'ConvNeXt act_cfg={act_cfg!r}: {name!r} is not a torch.nn activation '
                         f"(e.g. 'GELU', 'ReLU', 'SiLU').")
    try:
        return cls(**settings)
    except TypeError as error:
        raise ValueError(f'ConvNeXt act_cfg={act_cfg!r}: {error}') from None


class ConvNeXt(BaseModule):
    """ConvNeXt V1 / V2 multi-scale backbone (registered as ``ConvNeXt`` in mmdet and mmseg).

    Takes every argument of mmpretrain's ``ConvNeXt``, so an mmpretrain / mmdet / mmseg config
    moves here by changing only ``type``. Differences that stay (each refused with the reason,
    not ignored): ``gap_before_final_norm`` must be False and ``linear_pw_conv`` True,
    ``norm_cfg`` must be a LayerNorm; defaults differ where dense prediction needs it:
    ``out_indices=(0, 1, 2, 3)`` (mmpretrain: -1) and ``gap_before_final_norm=False``
    (mmpretrain: True), and each emitted map has its own ``norm{i}``, as in the official
    detection / segmentation backbones (mmpretrain's ``norm{i}`` are the same tensors).

    Args:
        arch: a name in :data:`ARCH_SETTINGS` or ``dict(depths=[...], channels=[...])`` with one
            entry per stage (any number of stages; stage i has stride ``stem_patch_size * 2**i``).
        in_channels: input image channels.
        stem_patch_size: stride and kernel of the patchify stem.
        norm_cfg: LayerNorm settings (``dict(type='LN2d', eps=1e-6)``); other norms are refused.
        act_cfg: the blocks' activation, a ``torch.nn`` activation (``dict(type='GELU')``).
        linear_pw_conv: must be True (mmpretrain's default), see above.
        use_grn: add global response normalisation to every block (ConvNeXt V2).
        drop_path_rate: stochastic depth of the last block; it grows linearly from 0 over all
            blocks.
        layer_scale_init_value: initial per-channel residual scale; 0 disables layer scale (V2).
        out_indices: stages to emit (negatives count from the end).
        frozen_stages: freeze the stem/downsample layers and blocks of stages < this index
            (parameters get no gradient and stay in eval mode across ``train()``).
        gap_before_final_norm: must be False (classification pooling), see above.
        with_cp: gradient checkpointing of each block while training (less memory, more compute).
        channels_last: run in the NHWC memory format (outputs are channels_last NCHW tensors).
        fused: let blocks use oneDNN-fused kernels on fp32 CPU input (see ``_fused_cpu``); also
            settable later as ``model.fused``. They step aside by themselves while tracing,
            exporting, compiling and under autocast.
        init_cfg: mmengine init config; ``dict(type='Pretrained', checkpoint=PATH_OR_URL,
            prefix=None)`` loads weights of any layout :mod:`..checkpoint` reads, without
            running code (``trust=True`` to unpickle a file that needs more; see
            :mod:`convnext_dense.checkpoint.loading`).

    Shapes: input (N, in_channels, H, W); output ``tuple`` of (N, channels[i],
    H / (stem_patch_size * 2**i), W / ...) for i in ``out_indices`` (sizes rounded down by
    each strided conv).
    """

    def __init__(self,
                 arch: Union[str, dict] = 'tiny',
                 in_channels: int = 3,
                 stem_patch_size: int = 4,
                 norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = None,
                 linear_pw_conv: bool = True,
                 use_grn: bool = False,
                 drop_path_rate: float = 0.0,
                 layer_scale_init_value: float = 1e-6,
                 out_indices: Union[int, Sequence[int]] = (0, 1, 2, 3),
                 frozen_stages: int = 0,
                 gap_before_final_norm: bool = False,
                 with_cp: bool = False,
                 channels_last: bool = True,
                 fused: bool = True,
                 init_cfg: Optional[Union[dict, List[dict]]] = None):
        super().__init__(init_cfg=init_cfg)
        _refuse_unsupported('gap_before_final_norm', gap_before_final_norm)
        _refuse_unsupported('linear_pw_conv', linear_pw_conv)
        norm_eps = _layer_norm_eps(norm_cfg)
        build_activation(act_cfg)  # a bad act_cfg fails here, once, not in every block
        self.arch = resolve_arch(arch)
        num_stages = self.arch.num_stages
        if not 0 <= frozen_stages <= num_stages:
            raise ValueError(f'ConvNeXt frozen_stages={frozen_stages} is not in 0..{num_stages}.')
        if not 0.0 <= drop_path_rate < 1.0:
            raise ValueError(f'ConvNeXt drop_path_rate={drop_path_rate} is not in [0, 1).')
        self.out_indices = _normalise_out_indices(out_indices, num_stages)
        self.frozen_stages = frozen_stages
        self.with_cp = with_cp
        self.channels_last = channels_last
        self.stem_patch_size = stem_patch_size

        channels = self.arch.channels
        self.downsample_layers = nn.ModuleList(
            [_stem(in_channels, channels[0], stem_patch_size, norm_eps)] +
            [_downsample(channels[i - 1], channels[i], norm_eps) for i in range(1, num_stages)])
        drop_rates = _linear_drop_path_rates(drop_path_rate, sum(self.arch.depths))
        self.stages = nn.ModuleList()
        for i, depth in enumerate(self.arch.depths):
            first = sum(self.arch.depths[:i])
            self.stages.append(nn.Sequential(*[
                ConvNeXtBlock(channels[i], drop_rates[first + b], layer_scale_init_value,
                              use_grn, fused, build_activation(act_cfg), norm_eps)
                for b in range(depth)
            ]))
        for i in self.out_indices:
            self.add_module(f'norm{i}', LayerNorm2d(channels[i], norm_eps))
        self.feature_info = [
            dict(num_chs=channels[i], reduction=stem_patch_size * 2**i, module=f'stages.{i}')
            for i in self.out_indices
        ]

        self.apply(self._init_linear_and_conv)
        if channels_last:
            self.to(memory_format=torch.channels_last)
        self._freeze_stages()

    @property
    def fused(self) -> bool:
        """Whether blocks may take the oneDNN-fused CPU path (the one public switch)."""
        return all(block.fused for stage in self.stages for block in stage)

    @fused.setter
    def fused(self, enabled: bool) -> None:
        for stage in self.stages:
            for block in stage:
                block.fused = bool(enabled)

    @property
    def out_channels(self) -> List[int]:
        """Channels of each emitted map, in output order."""
        return [info['num_chs'] for info in self.feature_info]

    @property
    def total_stride(self) -> int:
        """Stride of the last stage: the smallest image side the network accepts."""
        return self.stem_patch_size * 2**(self.arch.num_stages - 1)

    @property
    def out_strides(self) -> List[int]:
        """Stride of each emitted map relative to the input, in output order."""
        return [info['reduction'] for info in self.feature_info]

    def layer_id(self, name: str, decay_type: str, num_layers: int) -> Optional[int]:
        """The layer id of the parameter ``name`` (relative to this backbone) for layer-wise
        learning-rate decay, numbered as the official constructor numbers a four-stage
        ConvNeXt, for any number of stages S; None for the output norms, which decay as the
        heads do:

        ``layer_wise``: the stem 0; stage i < S - 2 and downsample i (0 < i <= S - 2) i + 1;
        block b of stage S - 2 (the long one) S - 1 + b // 3; the last stage and its
        downsample ``num_layers``. ``stage_wise``: every downsample 0, stage i i + 1.
        """
        kind, index, *rest = name.split('.')
        if kind not in ('downsample_layers', 'stages'):
            return None
        index, last = int(index), self.arch.num_stages - 1
        if decay_type == 'stage_wise':
            return 0 if kind == 'downsample_layers' else index + 1
        if decay_type != 'layer_wise':
            raise ValueError(f"decay_type {decay_type!r} is neither 'layer_wise' nor "
                             f"'stage_wise'.")
        if index == last:
            return num_layers if last > 0 or kind == 'stages' else 0
        if kind == 'downsample_layers':
            return index + 1 if index > 0 else 0
        if index == last - 1:
            return index + 1 + int(rest[0]) // 3
        return index + 1
    @staticmethod
    def _init_linear_and_conv(module: nn.Module) -> None:
        # The official initialisation: truncated normal (std 0.02) weights, zero biases.
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.trunc_normal_(module.weight, std=0.02)
            nn.init.zeros_(module.bias)

    def init_weights(self) -> None:
        """Loads ``init_cfg``'s Pretrained checkpoint in any supported layout, else defers to
        mmengine's initialisers (the constructor has already applied the official init)."""
        if isinstance(self.init_cfg, dict) and self.init_cfg.get('type') == 'Pretrained':
            from ...checkpoint import load_pretrained_backbone
            load_pretrained_backbone(self, self.init_cfg['checkpoint'],
                                     prefix=self.init_cfg.get('prefix'),
                                     map_location=self.init_cfg.get('map_location', 'cpu'),
                                     trust=bool(self.init_cfg.get('trust', False)))
            self._is_init = True
        else:
            super().init_weights()
        self._freeze_stages()

    def _freeze_stages(self) -> None:
        for i in range(self.frozen_stages):
            for module in (self.downsample_layers[i], self.stages[i]):
                module.eval()
                for param in module.parameters():
                    param.requires_grad = False

    def train(self, mode: bool = True) -> 'ConvNeXt':
        """Sets train / eval mode; frozen stages stay in eval mode. Returns self."""
        super().train(mode)
        self._freeze_stages()
        return self

    def _run_stage(self, stage: nn.Sequential, x: Tensor) -> Tensor:
        if not (self.with_cp and self.training and torch.is_grad_enabled()):
            return stage(x)
        for block in stage:
            x = checkpoint(block, x, use_reentrant=False)
        return x

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        if x.dim() != 4:
            raise ValueError(f'ConvNeXt expects (N, C, H, W) input, got shape {tuple(x.shape)}.')
        min_side = self.total_stride
        if x.shape[-2] < min_side or x.shape[-1] < min_side:
            raise ImageTooSmallError(
                f'ConvNeXt needs images of at least {min_side} x {min_side} pixels (its total '
                f'stride); got {x.shape[-2]} x {x.shape[-1]}. Resize or pad smaller images '
                f'(e.g. Pad(size_divisor=32) in the pipeline).')
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        outs = []
        for i in range(self.arch.num_stages):
            x = self._run_stage(self.stages[i], self.downsample_layers[i](x))
            if i in self.out_indices:
                outs.append(getattr(self, f'norm{i}')(x))
        return tuple(outs)
