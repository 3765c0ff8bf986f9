"""The ConvNeXt implementations the benchmark compares, built with the same weights.

Each builder returns an ``nn.Module`` that maps images (N, 3, H, W) to the same four maps ours
emits: stage features at strides 4, 8, 16, 32, each through a channels-first LayerNorm (the
official dense-prediction backbone). timm and torchvision have no such output norms, so their
wrappers add them with the library's own ``LayerNorm2d``; mmpretrain has them.

Weights: ours is built with seeded random weights; every peer receives them through
:func:`convnext_dense.checkpoint.export_state_dict` (our converters, run backwards).
"""
from typing import Callable, Dict, Tuple

import torch
from torch import Tensor, nn

from ..models.backbones.convnext import ConvNeXt, resolve_arch
from ..checkpoint import export_state_dict

OUT_NORM_PREFIX = 'norm'


class MissingImplementationError(RuntimeError):
    """An implementation's library is not installed or has no model for the requested arch."""


class TimmFeatures(nn.Module):
    """timm ``convnext*`` with ``features_only=True`` plus timm ``LayerNorm2d`` output norms."""

    def __init__(self, arch: str, use_grn: bool, drop_path_rate: float = 0.0):
        super().__init__()
        import timm
        from timm.layers import LayerNorm2d
        name = f'convnextv2_{arch}' if use_grn else f'convnext_{arch}'
        if name not in timm.list_models(name):
            raise MissingImplementationError(f'timm {timm.__version__} has no model {name!r}.')
        self.trunk = timm.create_model(name, features_only=True, drop_path_rate=drop_path_rate)
        self.norms = nn.ModuleList(LayerNorm2d(c, eps=1e-6) for c in resolve_arch(arch).channels)

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        return tuple(norm(f) for norm, f in zip(self.norms, self.trunk(x)))


class TorchvisionFeatures(nn.Module):
    """torchvision ``ConvNeXt.features`` (any V1 arch, built from its block settings) plus
    torchvision ``LayerNorm2d`` output norms after the four stages."""

    def __init__(self, arch: str, use_grn: bool, drop_path_rate: float = 0.0):
        super().__init__()
        if use_grn:
            raise MissingImplementationError('torchvision has no ConvNeXt V2 (GRN).')
        from torchvision.models.convnext import CNBlockConfig
        from torchvision.models.convnext import ConvNeXt as TorchvisionConvNeXt
        from torchvision.models.convnext import LayerNorm2d
        spec = resolve_arch(arch)
        widths = list(spec.channels) + [None]
        settings = [CNBlockConfig(widths[i], widths[i + 1], spec.depths[i])
                    for i in range(spec.num_stages)]
        self.features = TorchvisionConvNeXt(settings,
                                            stochastic_depth_prob=drop_path_rate).features
        self.norms = nn.ModuleList(LayerNorm2d(c, eps=1e-6) for c in spec.channels)

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        outs = []
        for index, layer in enumerate(self.features):
            x = layer(x)
            if index % 2 == 1:  # odd entries are the stages, even ones stem / downsampling
                outs.append(self.norms[index // 2](x))
        return tuple(outs)


def _split_out_norms(state: Dict[str, Tensor]):
    trunk = {k: v for k, v in state.items() if not k.startswith(OUT_NORM_PREFIX)}
    norms = {k[len(OUT_NORM_PREFIX):]: v for k, v in state.items()
             if k.startswith(OUT_NORM_PREFIX)}
    # 'norm{i}.weight' -> '{i}.weight' for an nn.ModuleList of norms.
    return trunk, norms


def _build_ours(arch: str, use_grn: bool, state: Dict[str, Tensor],
                drop_path_rate: float) -> nn.Module:
    model = ConvNeXt(arch, use_grn=use_grn, layer_scale_init_value=0.0 if use_grn else 1e-6,
                     drop_path_rate=drop_path_rate)
    model.load_state_dict(state)
    return model


def _build_timm(arch: str, use_grn: bool, state: Dict[str, Tensor],
                drop_path_rate: float) -> nn.Module:
    model = TimmFeatures(arch, use_grn, drop_path_rate)
    trunk, norms = _split_out_norms(state)
    model.trunk.load_state_dict(export_state_dict(trunk, model.trunk.state_dict(), 'timm'))
    model.norms.load_state_dict(norms)
    return model


def _build_torchvision(arch: str, use_grn: bool, state: Dict[str, Tensor],
                       drop_path_rate: float) -> nn.Module:
    model = TorchvisionFeatures(arch, use_grn, drop_path_rate)
    trunk, norms = _split_out_norms(state)
    template = {f'features.{k}': v for k, v in model.features.state_dict().items()}
    exported = export_state_dict(trunk, template, 'torchvision')
    model.features.load_state_dict({k[len('features.'):]: v for k, v in exported.items()})
    model.norms.load_state_dict(norms)
    return model


def _build_mmpretrain(arch: str, use_grn: bool, state: Dict[str, Tensor],
                      drop_path_rate: float) -> nn.Module:
    try:
        from mmpretrain.models import ConvNeXt as MMPretrainConvNeXt
    except ImportError as error:
        raise MissingImplementationError(f'mmpretrain is not installed: {error}') from error
    model = MMPretrainConvNeXt(arch=dict(depths=list(resolve_arch(arch).depths),
                                         channels=list(resolve_arch(arch).channels)),
                               out_indices=tuple(range(resolve_arch(arch).num_stages)),
                               gap_before_final_norm=False,
                               use_grn=use_grn, layer_scale_init_value=0.0 if use_grn else 1e-6,
                               drop_path_rate=drop_path_rate)
    model.load_state_dict(export_state_dict(state, model.state_dict(), 'mmpretrain'))
    return model


BUILDERS: Dict[str, Callable[[str, bool, Dict[str, Tensor], float], nn.Module]] = {
    'ours': _build_ours,
    'timm': _build_timm,
    'torchvision': _build_torchvision,
    'mmpretrain': _build_mmpretrain,
}


def reference_weights(arch: str, use_grn: bool, seed: int = 0) -> Dict[str, Tensor]:
    """Our backbone's state dict with seeded random values of a useful scale everywhere.

    The stock initialisation (layer scale 1e-6, GRN zeros, LN ones) would make most of each block
    invisible in the outputs, so the agreement check would prove little.
    """
    generator = torch.Generator().manual_seed(seed)
    model = ConvNeXt(arch, use_grn=use_grn, layer_scale_init_value=0.0 if use_grn else 1e-6)
    state = {}
    for key, value in model.state_dict().items():
        if value.dim() == 1:
            noise = torch.rand(value.shape, generator=generator)
            state[key] = 0.5 + noise if key.endswith(('.weight', '.gamma')) else noise - 0.5
        else:
            fan_in = value[0].numel()
            state[key] = torch.randn(value.shape, generator=generator) / fan_in**0.5
    return state


def build_implementation(name: str, arch: str, use_grn: bool, state: Dict[str, Tensor],
                         drop_path_rate: float = 0.0) -> nn.Module:
    """The named implementation (a key of :data:`BUILDERS`) of ``arch`` holding ``state`` (our
    layout), in fp32 on the CPU, with stochastic depth growing linearly from 0 to
    ``drop_path_rate`` over the blocks (each library's own schedule; all four are this one)."""
    if name not in BUILDERS:
        raise ValueError(f'Unknown implementation {name!r}; choose from {sorted(BUILDERS)}.')
    return BUILDERS[name](arch, use_grn, state, drop_path_rate)
