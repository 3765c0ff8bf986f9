"""ConvNeXt V1 / V2 backbone for dense prediction.

Input: images (N, in_channels, H, W). Output: a tuple with one map per entry of ``out_indices``;
stage i has ``arch.channels[i]`` channels at stride 4 * 2**i (4, 8, 16, 32), and each emitted map
goes through its own channels-first LayerNorm (``norm{i}``), as in the official detection and
segmentation backbones.

Parameter names follow the official ConvNeXt repository (``downsample_layers.i``,
``stages.i.b.{dwconv,norm,pwconv1,pwconv2,gamma,grn}``, ``norm{i}``), so the official layer-decay
recipes and trained detector checkpoints name the same tensors here. Other layouts (timm,
torchvision, mmpretrain) are converted by :mod:`convnext_dense.models.checkpoint`.
"""
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmcv.cnn.bricks import DropPath
from mmengine.model import BaseModule
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from ._fused_cpu import (PackedMlpWeights, depthwise_conv2d, fused_cpu_kernels_apply, linear,
                         linear_add, linear_gelu, linear_scale_residual, scale_folding_pays)


@dataclass(frozen=True)
class ConvNeXtArch:
    """Blocks per stage and channels per stage of one published ConvNeXt size."""
    depths: Tuple[int, int, int, int]
    channels: Tuple[int, int, int, int]


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
NUM_STAGES = 4


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
        if len(depths) != NUM_STAGES or len(channels) != NUM_STAGES:
            raise ValueError(f'ConvNeXt arch needs {NUM_STAGES} depths and {NUM_STAGES} '
                             f'channels, got depths={depths}, channels={channels}.')
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


class GlobalResponseNorm(nn.Module):
    """ConvNeXt V2's GRN on NHWC input (N, H, W, C): x + gamma * (x * Nx) + beta, where Nx is
    each channel's spatial L2 norm divided by the mean of those norms over channels."""

    def __init__(self, num_channels: int, eps: float = 1e-6):
        super().__init__()
        self.gamma = nn.Parameter(torch.zeros(num_channels))
        self.beta = nn.Parameter(torch.zeros(num_channels))
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        spatial_norm = torch.linalg.vector_norm(x, ord=2, dim=(1, 2), keepdim=True)
        normalised = spatial_norm / (spatial_norm.mean(dim=-1, keepdim=True) + self.eps)
        return x + torch.addcmul(self.beta, self.gamma, x * normalised)


class ConvNeXtBlock(nn.Module):
    """dwconv 7x7 -> LN -> Linear(C, 4C) -> GELU [-> GRN] -> Linear(4C, C) [* gamma] -> + x.

    Input and output: (N, C, H, W). The MLP runs on NHWC with ``nn.Linear``, which is faster
    than 1x1 convolutions on NCHW for these widths (timm measured the same). On fp32 CPU tensors
    the block runs oneDNN-fused kernels (:mod:`._fused_cpu`; same parameters, same results up to
    float rounding) unless ``fused=False``; stochastic depth while training takes the plain path.
    """

    def __init__(self, channels: int, drop_path: float = 0.0, layer_scale_init_value: float = 1e-6,
                 use_grn: bool = False, fused: bool = True):
        super().__init__()
        hidden = 4 * channels
        self.dwconv = nn.Conv2d(channels, channels, kernel_size=7, padding=3, groups=channels)
        self.norm = nn.LayerNorm(channels, eps=1e-6)
        self.pwconv1 = nn.Linear(channels, hidden)
        self.act = nn.GELU()
        self.grn = GlobalResponseNorm(hidden) if use_grn else None
        self.pwconv2 = nn.Linear(hidden, channels)
        self.gamma = (nn.Parameter(torch.full((channels, ), float(layer_scale_init_value)))
                      if layer_scale_init_value > 0 else None)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.fused = fused
        self.packed_weights = PackedMlpWeights()

    def forward(self, x: Tensor) -> Tensor:
        stochastic_depth = self.training and isinstance(self.drop_path, DropPath)
        if self.fused and not stochastic_depth and fused_cpu_kernels_apply(x):
            return self._forward_fused(x)
        return self._forward_plain(x)

    def _forward_plain(self, x: Tensor) -> Tensor:
        shortcut = x
        x = self.dwconv(x).permute(0, 2, 3, 1)
        x = self.act(self.pwconv1(self.norm(x)))
        if self.grn is not None:
            x = self.grn(x)
        x = self.pwconv2(x)
        if self.gamma is not None:
            x = x * self.gamma
        return shortcut + self.drop_path(x.permute(0, 3, 1, 2))

    def _forward_fused(self, x: Tensor) -> Tensor:
        needs_grad = torch.is_grad_enabled() and (x.requires_grad
                                                  or self.pwconv1.weight.requires_grad)
        if needs_grad:
            return self._forward_fused_differentiable(x)
        return self._forward_fused_inference(x)

    def _forward_fused_differentiable(self, x: Tensor) -> Tensor:
        y = depthwise_conv2d(x, self.dwconv.weight, self.dwconv.bias).permute(0, 2, 3, 1)
        y = self.act(linear(self.norm(y), self.pwconv1.weight, self.pwconv1.bias))
        if self.grn is not None:
            y = self.grn(y)
        shortcut = x.permute(0, 2, 3, 1)
        if self.gamma is None or scale_folding_pays(y.numel() // y.shape[-1], self.pwconv2.weight):
            y = linear_scale_residual(y, self.pwconv2.weight, self.pwconv2.bias, self.gamma,
                                      shortcut)
        else:
            y = torch.addcmul(shortcut, linear(y, self.pwconv2.weight, self.pwconv2.bias),
                              self.gamma)
        return y.permute(0, 3, 1, 2)

    def _forward_fused_inference(self, x: Tensor) -> Tensor:
        packed = self.packed_weights.get(self.pwconv1.weight, self.pwconv2.weight,
                                         self.pwconv2.bias, self.gamma)
        y = self.norm(self.dwconv(x).permute(0, 2, 3, 1))
        y = linear_gelu(y, packed.first_weight, self.pwconv1.bias)
        if self.grn is not None:
            y = self.grn(y)
        y = linear_add(y, packed.second_weight, packed.second_bias, x.permute(0, 2, 3, 1))
        return y.permute(0, 3, 1, 2)

    def train(self, mode: bool = True) -> 'ConvNeXtBlock':
        """Sets the mode and drops the packed inference weights (repacked on the next
        inference), so changes made through ``param.data``, which no version counter sees
        (mmengine's EMA swap does this before validation), take effect at ``eval()``."""
        self.packed_weights.clear()
        return super().train(mode)


def _stem(in_channels: int, out_channels: int, patch_size: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=patch_size, stride=patch_size),
        LayerNorm2d(out_channels))


def _downsample(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        LayerNorm2d(in_channels), nn.Conv2d(in_channels, out_channels, kernel_size=2, stride=2))


def _linear_drop_path_rates(max_rate: float, num_blocks: int) -> List[float]:
    """0 for the first block up to ``max_rate`` for the last (plain floats, so the model can be
    built on the meta device)."""
    if num_blocks == 1:
        return [0.0]
    return [max_rate * b / (num_blocks - 1) for b in range(num_blocks)]


def _normalise_out_indices(out_indices: Union[int, Sequence[int]]) -> Tuple[int, ...]:
    indices = (out_indices, ) if isinstance(out_indices, int) else tuple(out_indices)
    if not indices:
        raise ValueError('ConvNeXt out_indices is empty; give at least one stage index 0..3.')
    for index in indices:
        if not -NUM_STAGES <= index < NUM_STAGES:
            raise ValueError(f'ConvNeXt out_indices entry {index} is out of range '
                             f'[-{NUM_STAGES}, {NUM_STAGES - 1}].')
    return tuple(sorted({index % NUM_STAGES for index in indices}))


class ConvNeXt(BaseModule):
    """ConvNeXt V1 / V2 multi-scale backbone (registered as ``ConvNeXt`` in mmdet and mmseg).

    Arguments carry mmpretrain's ``ConvNeXt`` names, so an mmdet / mmseg config moves here by
    changing only ``type``.

    Args:
        arch: a name in :data:`ARCH_SETTINGS` or ``dict(depths=[4 ints], channels=[4 ints])``.
        in_channels: input image channels.
        stem_patch_size: stride and kernel of the patchify stem.
        out_indices: stages to emit (0..3, negatives count from the end).
        drop_path_rate: stochastic depth of the last block; it grows linearly from 0 over all
            blocks.
        layer_scale_init_value: initial per-channel residual scale; 0 disables layer scale (V2).
        use_grn: add global response normalisation to every block (ConvNeXt V2).
        frozen_stages: freeze the stem/downsample layers and blocks of stages < this index
            (parameters get no gradient and stay in eval mode across ``train()``).
        with_cp: gradient checkpointing of each block while training (less memory, more compute).
        channels_last: run in the NHWC memory format (outputs are channels_last NCHW tensors).
        fused: let blocks use oneDNN-fused kernels on fp32 CPU input (see ``_fused_cpu``);
            False forces the plain PyTorch ops everywhere (e.g. before ONNX / TorchScript
            export, which do not know oneDNN's private ops).
        gap_before_final_norm: mmpretrain's classification pooling; only False makes sense for
            dense prediction and is accepted for config compatibility.
        init_cfg: mmengine init config; ``dict(type='Pretrained', checkpoint=PATH_OR_URL,
            prefix=None)`` loads official / timm / torchvision / mmpretrain weights.

    Shapes: input (N, in_channels, H, W); output ``tuple`` of (N, channels[i], H / 2**(i+2),
    W / 2**(i+2)) for i in ``out_indices`` (sizes rounded down by each strided conv).
    """

    def __init__(self,
                 arch: Union[str, dict] = 'tiny',
                 in_channels: int = 3,
                 stem_patch_size: int = 4,
                 out_indices: Union[int, Sequence[int]] = (0, 1, 2, 3),
                 drop_path_rate: float = 0.0,
                 layer_scale_init_value: float = 1e-6,
                 use_grn: bool = False,
                 frozen_stages: int = 0,
                 with_cp: bool = False,
                 channels_last: bool = True,
                 fused: bool = True,
                 gap_before_final_norm: bool = False,
                 init_cfg: Optional[Union[dict, List[dict]]] = None):
        super().__init__(init_cfg=init_cfg)
        if gap_before_final_norm:
            raise ValueError('ConvNeXt gap_before_final_norm=True pools features for '
                             'classification; dense prediction needs False.')
        if not 0 <= frozen_stages <= NUM_STAGES:
            raise ValueError(f'ConvNeXt frozen_stages={frozen_stages} is not in 0..{NUM_STAGES}.')
        if not 0.0 <= drop_path_rate < 1.0:
            raise ValueError(f'ConvNeXt drop_path_rate={drop_path_rate} is not in [0, 1).')
        self.arch = resolve_arch(arch)
        self.out_indices = _normalise_out_indices(out_indices)
        self.frozen_stages = frozen_stages
        self.with_cp = with_cp
        self.channels_last = channels_last
        self.stem_patch_size = stem_patch_size

        channels = self.arch.channels
        self.downsample_layers = nn.ModuleList(
            [_stem(in_channels, channels[0], stem_patch_size)] +
            [_downsample(channels[i - 1], channels[i]) for i in range(1, NUM_STAGES)])
        drop_rates = _linear_drop_path_rates(drop_path_rate, sum(self.arch.depths))
        self.stages = nn.ModuleList()
        for i, depth in enumerate(self.arch.depths):
            first = sum(self.arch.depths[:i])
            self.stages.append(nn.Sequential(*[
                ConvNeXtBlock(channels[i], drop_rates[first + b], layer_scale_init_value,
                              use_grn, fused) for b in range(depth)
            ]))
        for i in self.out_indices:
            self.add_module(f'norm{i}', LayerNorm2d(channels[i]))
        self.feature_info = [
            dict(num_chs=channels[i], reduction=stem_patch_size * 2**i, module=f'stages.{i}')
            for i in self.out_indices
        ]

        self.apply(self._init_linear_and_conv)
        if channels_last:
            self.to(memory_format=torch.channels_last)
        self._freeze_stages()

    @property
    def out_channels(self) -> List[int]:
        """Channels of each emitted map, in output order."""
        return [info['num_chs'] for info in self.feature_info]

    @property
    def total_stride(self) -> int:
        """Stride of the last stage: the smallest image side the network accepts."""
        return self.stem_patch_size * 2**(NUM_STAGES - 1)

    @property
    def out_strides(self) -> List[int]:
        """Stride of each emitted map relative to the input, in output order."""
        return [info['reduction'] for info in self.feature_info]

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
            from ..checkpoint import load_pretrained_backbone
            load_pretrained_backbone(self, self.init_cfg['checkpoint'],
                                     prefix=self.init_cfg.get('prefix'),
                                     map_location=self.init_cfg.get('map_location', 'cpu'))
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
            raise ValueError(f'ConvNeXt needs images of at least {min_side} x {min_side} pixels '
                             f'(its total stride); got {x.shape[-2]} x {x.shape[-1]}. Resize or '
                             f'pad smaller images (e.g. Pad(size_divisor=32) in the pipeline).')
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        outs = []
        for i in range(NUM_STAGES):
            x = self._run_stage(self.stages[i], self.downsample_layers[i](x))
            if i in self.out_indices:
                outs.append(getattr(self, f'norm{i}')(x))
        return tuple(outs)
