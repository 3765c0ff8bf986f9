"""Detects the layout of a ConvNeXt checkpoint and converts it to ours.

Layouts (after unwrapping ``state_dict`` / ``model`` and stripping ``module.``):

================  ============================================  ==============================
layout            tell-tale keys                                what changes
================  ============================================  ==============================
``official``      ``stages.0.0.dwconv.weight``                  V2 GRN (1, 1, 1, C) -> (C,);
                                                                classifier ``norm`` / ``head``
                                                                dropped
``mmpretrain``    ``stages.0.0.depthwise_conv.weight``          block names; 1x1-conv MLP
                                                                weights squeezed; ``head`` dropped
``timm``          ``stem.0.weight`` (``stem_0`` features_only)  stem / downsample / block names;
                                                                ``norm_pre`` / ``head`` dropped
``torchvision``   ``features.0.0.weight``                       ``features.k`` indices; layer
                                                                scale (C, 1, 1) -> (C,)
``fcmae``         ``encoder.stages.0.0.dwconv.kernel``          ConvNeXt V2 FCMAE pre-training
                                                                (sparse convolutions): the
                                                                official remapping rules, see
                                                                :func:`convert_fcmae_state_dict`
``huggingface``   ``embeddings.patch_embeddings.weight``        transformers ``ConvNextModel`` /
                                                                ``ConvNextV2Model`` (also inside
                                                                ``...ForImageClassification`` and
                                                                UperNet's ``ConvNextBackbone``)
``dinov3``        ``norms.3.weight`` beside official blocks     DINOv3's ConvNeXt
                                                                (facebookresearch/dinov3): its
                                                                final ``norm``, registered twice
                                                                (``norm``, ``norms.3``), becomes
                                                                our stage-3 output norm ``norm3``
``dinov3_hf``     ``stages.0.layers.0.depthwise_conv.weight``   transformers
                                                                ``DINOv3ConvNextModel``: block
                                                                and stage names; its final
                                                                ``layer_norm`` becomes ``norm3``
================  ============================================  ==============================

DINOv3 applies its final norm to every position of the last stage's map (the patch tokens its
dense evaluations read), which is what our ``norm3`` does; so that norm is kept, where the
official classifiers' final norm (applied after pooling) is dropped.

Our own layout is the official one, so our checkpoints convert as ``official``. A full model
checkpoint (``backbone.`` keys next to neck / head keys) gives its backbone.
"""
import math
import re
from typing import Callable, Dict, List, Optional, Tuple, Union

import torch
from torch import Tensor

from ..errors import InputError

StateDict = Dict[str, Tensor]

LAYOUTS = ('official', 'mmpretrain', 'timm', 'torchvision', 'fcmae', 'huggingface', 'dinov3',
           'dinov3_hf')


class CheckpointMismatchError(InputError, ValueError):
    """A checkpoint's keys or shapes do not fit the layout read or the model loaded into."""


def unwrap_state_dict(checkpoint: dict, prefix: Optional[str] = None) -> StateDict:
    """The backbone tensors of a checkpoint: unwraps ``state_dict`` / ``model``, strips
    ``module.``, then keeps the keys under ``prefix`` (default: ``backbone.`` if any key has it)
    with the prefix removed."""
    for wrapper in ('state_dict', 'model'):
        if isinstance(checkpoint.get(wrapper), dict):
            checkpoint = checkpoint[wrapper]
            break
    state = {re.sub(r'^module\.', '', k): v for k, v in checkpoint.items() if torch.is_tensor(v)}
    if prefix is None and any(k.startswith('backbone.') for k in state):
        prefix = 'backbone.'
    if prefix:
        prefix = prefix if prefix.endswith('.') else prefix + '.'
        state = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        if not state:
            raise CheckpointMismatchError(f'No checkpoint key starts with prefix {prefix!r}.')
    return state


def detect_layout(state: StateDict) -> str:
    """Which of :data:`LAYOUTS` a (unwrapped) backbone state dict is in."""
    keys = list(state)
    if any(k.endswith('.kernel') for k in keys):
        return 'fcmae'
    if any(re.match(r'^(\w+\.)?embeddings\.patch_embeddings\.', k) for k in keys):
        return 'huggingface'
    if any(re.match(r'^(dinov3_convnext\.)?stages\.\d+\.layers\.\d+\.', k) for k in keys):
        return 'dinov3_hf'
    if any(k.startswith('features.') for k in keys):
        return 'torchvision'
    if any(k.startswith(('stem.', 'stem_')) for k in keys):
        return 'timm'
    if any('.depthwise_conv.' in k for k in keys):
        return 'mmpretrain'
    if any('.dwconv.' in k for k in keys):
        return 'dinov3' if any(k.startswith('norms.') for k in keys) else 'official'
    raise CheckpointMismatchError(
        f'Cannot tell the ConvNeXt checkpoint layout (expected one of {LAYOUTS}); '
        f'first keys: {keys[:5]}')


def _rename(state: StateDict, rules: List[Tuple[str, Union[str, Callable]]],
            drop: str) -> StateDict:
    """Applies the first matching (pattern, replacement) rule to each key not matching drop."""
    out = {}
    for key, value in state.items():
        if re.match(drop, key):
            continue
        for pattern, replacement in rules:
            new_key, count = re.subn(pattern, replacement, key)
            if count:
                key = new_key
                break
        out[key] = value
    return out


def _flatten_block_params(state: StateDict) -> StateDict:
    """Our block parameters are 1-D / Linear-shaped: squeezes GRN (1,1,1,C), torchvision layer
    scale (C,1,1) and 1x1-conv MLP weights (out,in,1,1) coming from other layouts."""
    out = {}
    for key, value in state.items():
        if re.search(r'\.(grn\.(gamma|beta)|gamma)$', key):
            value = value.reshape(-1)
        elif re.search(r'\.pwconv[12]\.weight$', key) and value.dim() == 4:
            value = value.flatten(1)
        out[key] = value
    return out


def convert_official_state_dict(state: StateDict) -> StateDict:
    """Official ConvNeXt / ConvNeXt-V2 (classification or detection backbone) -> ours."""
    return _flatten_block_params(_rename(state, [], drop=r'^(norm|head)\.'))


def convert_mmpretrain_state_dict(state: StateDict) -> StateDict:
    """mmpretrain ``ConvNeXt`` (its ``backbone.`` part) -> ours."""
    rules = [(r'\.depthwise_conv\.', '.dwconv.'), (r'\.pointwise_conv(\d)\.', r'.pwconv\1.')]
    return _flatten_block_params(_rename(state, rules, drop=r'^head\.'))


def convert_timm_state_dict(state: StateDict) -> StateDict:
    """timm ``convnext_*`` / ``convnextv2_*`` (full or features_only model) -> ours."""
    rules = [
        (r'^stem[._](\d)\.', r'downsample_layers.0.\1.'),
        (r'^stages[._](\d)\.downsample\.', r'downsample_layers.\1.'),
        (r'^stages[._](\d)\.blocks\.(\d+)\.conv_dw\.', r'stages.\1.\2.dwconv.'),
        (r'^stages[._](\d)\.blocks\.(\d+)\.mlp\.fc(\d)\.', r'stages.\1.\2.pwconv\3.'),
        (r'^stages[._](\d)\.blocks\.(\d+)\.mlp\.grn\.weight', r'stages.\1.\2.grn.gamma'),
        (r'^stages[._](\d)\.blocks\.(\d+)\.mlp\.grn\.bias', r'stages.\1.\2.grn.beta'),
        (r'^stages[._](\d)\.blocks\.(\d+)\.', r'stages.\1.\2.'),
    ]
    return _flatten_block_params(_rename(state, rules, drop=r'^(head|norm_pre)\.'))


def _torchvision_rule(match: re.Match) -> str:
    index, rest = int(match.group(1)), match.group(2)
    if index == 0:
        return f'downsample_layers.0.{rest}'
    if index % 2 == 0:
        return f'downsample_layers.{index // 2}.{rest}'
    block, tail = rest.split('.', 1)
    parts = {'block.0.': 'dwconv.', 'block.2.': 'norm.', 'block.3.': 'pwconv1.',
             'block.5.': 'pwconv2.', 'layer_scale': 'gamma'}
    for theirs, ours in parts.items():
        if tail.startswith(theirs):
            return f'stages.{index // 2}.{block}.{ours}{tail[len(theirs):]}'
    return f'stages.{index // 2}.{rest}'


def convert_torchvision_state_dict(state: StateDict) -> StateDict:
    """torchvision ``convnext_*`` -> ours (``features.{0,2,4,6}`` downsample, odd = stages)."""
    out = {re.sub(r'^features\.(\d+)\.(.*)$', _torchvision_rule, k): v
           for k, v in state.items() if not k.startswith('classifier.')}
    return _flatten_block_params(out)


def _dense_kernel(kernel: Tensor) -> Tensor:
    """A MinkowskiEngine kernel as a dense conv weight, by the official rules: (k*k, in, out)
    -> (out, in, k, k); depthwise (k*k, C) -> (C, 1, k, k); the k*k axis is column-major."""
    size = math.isqrt(kernel.shape[0])
    if kernel.dim() == 3:
        taps, in_channels, out_channels = kernel.shape
        return kernel.permute(2, 1, 0).reshape(out_channels, in_channels, size, size) \
            .transpose(3, 2)
    return kernel.permute(1, 0).reshape(kernel.shape[1], 1, size, size).transpose(3, 2)


def convert_fcmae_state_dict(state: StateDict) -> StateDict:
    """ConvNeXt V2 FCMAE pre-training checkpoint (``convnextv2_*_1k_224_fcmae.pt``) -> ours.

    The rules are the official ones (facebookresearch/ConvNeXt-V2, ``utils.py``
    ``remap_checkpoint_keys`` and ``main_finetune.py``): keep the ``encoder.`` (drop the
    decoder, ``proj``, ``pred`` and ``mask_token``), turn ``*.kernel`` into dense conv weights,
    drop the ``.ln`` / ``.linear`` wrappers of MinkowskiEngine's LayerNorm and Linear, and
    flatten the (1, C) biases and GRN parameters.
    """
    out = {}
    for key, value in state.items():
        if not key.startswith('encoder.'):
            continue
        key = key[len('encoder.'):]
        if key.endswith('.kernel'):
            key, value = key[:-len('kernel')] + 'weight', _dense_kernel(value)
        key = re.sub(r'\.(ln|linear)\.', '.', key)
        if key.endswith('bias') and value.dim() != 1:
            value = value.reshape(-1)
        out[key] = value
    return convert_official_state_dict(out)


def convert_huggingface_state_dict(state: StateDict) -> StateDict:
    """transformers ``ConvNextModel`` / ``ConvNextV2Model`` (``convnext.`` / ``convnextv2.``
    prefix of the classifiers allowed; UperNet's ``backbone.`` is taken off before) -> ours."""
    state = {re.sub(r'^convnext(v2)?\.', '', k): v for k, v in state.items()}
    rules = [
        (r'^embeddings\.patch_embeddings\.', 'downsample_layers.0.0.'),
        (r'^embeddings\.layernorm\.', 'downsample_layers.0.1.'),
        (r'^encoder\.stages\.(\d+)\.downsampling_layer\.(\d)\.', r'downsample_layers.\1.\2.'),
        (r'^encoder\.stages\.(\d+)\.layers\.(\d+)\.layernorm\.', r'stages.\1.\2.norm.'),
        (r'^encoder\.stages\.(\d+)\.layers\.(\d+)\.layer_scale_parameter$',
         r'stages.\1.\2.gamma'),
        (r'^encoder\.stages\.(\d+)\.layers\.(\d+)\.grn\.weight$', r'stages.\1.\2.grn.gamma'),
        (r'^encoder\.stages\.(\d+)\.layers\.(\d+)\.grn\.bias$', r'stages.\1.\2.grn.beta'),
        (r'^encoder\.stages\.(\d+)\.layers\.(\d+)\.', r'stages.\1.\2.'),
        (r'^hidden_states_norms\.stage(\d+)\.', lambda m: f'norm{int(m.group(1)) - 1}.'),
    ]
    return _flatten_block_params(_rename(state, rules, drop=r'^(classifier|layernorm|pooler)\.'))


def convert_dinov3_state_dict(state: StateDict) -> StateDict:
    """DINOv3 ConvNeXt (``dinov3_convnext_*_pretrain_*.pth``) -> ours: the official names, with
    the final norm (``norms.3``, the same tensors as ``norm``) as ``norm3``."""
    return convert_official_state_dict(_rename(state, [(r'^norms\.3\.', 'norm3.')],
                                               drop=r'^norms\.[012]\.'))


def convert_dinov3_hf_state_dict(state: StateDict) -> StateDict:
    """transformers ``DINOv3ConvNextModel`` (``dinov3_convnext.`` prefix allowed) -> ours."""
    state = {re.sub(r'^dinov3_convnext\.', '', k): v for k, v in state.items()}
    # Stage structure here; the block names (depthwise_conv, pointwise_conv1/2) are mmpretrain's.
    rules = [(r'^stages\.(\d+)\.downsample_layers\.', r'downsample_layers.\1.'),
             (r'^stages\.(\d+)\.layers\.(\d+)\.layer_norm\.', r'stages.\1.\2.norm.'),
             (r'^stages\.(\d+)\.layers\.', r'stages.\1.'),
             (r'^layer_norm\.', 'norm3.')]
    return convert_mmpretrain_state_dict(_rename(state, rules, drop=r'^pool\.'))


def to_dinov3_state_dict(state: StateDict) -> StateDict:
    """Ours -> the DINOv3 repository's layout, which its ``ConvNeXt`` loads with
    ``strict=True``: the official names, our ``norm3`` as both ``norm`` and ``norms.3``, the
    other output norms (DINOv3 has none) left out. Raises :class:`CheckpointMismatchError` if
    ``state`` has no ``norm3``."""
    if 'norm3.weight' not in state:
        raise CheckpointMismatchError(
            'DINOv3 layout needs the last stage\'s output norm (norm3), which this state lacks.')
    out = {k: v for k, v in state.items() if not re.match(r'^norm\d\.', k)}
    for name in ('norm', 'norms.3'):
        out.update({f'{name}.{p}': state[f'norm3.{p}'].clone() for p in ('weight', 'bias')})
    return out


CONVERTERS: Dict[str, Callable[[StateDict], StateDict]] = {
    'official': convert_official_state_dict,
    'mmpretrain': convert_mmpretrain_state_dict,
    'timm': convert_timm_state_dict,
    'torchvision': convert_torchvision_state_dict,
    'fcmae': convert_fcmae_state_dict,
    'huggingface': convert_huggingface_state_dict,
    'dinov3': convert_dinov3_state_dict,
    'dinov3_hf': convert_dinov3_hf_state_dict,
}


def convert_state_dict(checkpoint: dict, prefix: Optional[str] = None,
                       layout: Optional[str] = None,
                       source: Optional[str] = None) -> Tuple[StateDict, str]:
    """A checkpoint in any supported layout -> (our backbone state dict, detected layout).
    Errors name ``source`` (the checkpoint's file or URL) when given."""
    if layout is not None and layout not in CONVERTERS:
        raise ValueError(f'Unknown checkpoint layout {layout!r}; choose one of {LAYOUTS}.')
    try:
        state = unwrap_state_dict(checkpoint, prefix)
        layout = layout or detect_layout(state)
    except CheckpointMismatchError as error:
        if source is None:
            raise
        raise CheckpointMismatchError(f'{source}: {error}') from None
    return CONVERTERS[layout](state), layout


def export_state_dict(state: StateDict, template: StateDict, layout: str) -> StateDict:
    """Our backbone state dict -> another layout, by running that layout's converter backwards.

    ``template`` is the target model's own state dict (its keys and shapes). Every converter only
    renames keys and reshapes tensors, so tagging each template tensor with its key's index and
    converting the tags tells which of our keys fills which template key. Template keys the
    converter drops (classifier heads) keep their values. Raises ``KeyError`` naming a template
    key that none of ours fills, or one of ours that fills no template key.
    """
    keys = list(template)
    tags = {key: torch.full(value.shape, float(index))
            for index, (key, value) in enumerate(template.items()) if value.is_floating_point()}
    source_key = {ours: keys[int(tag.flatten()[0])] for ours, tag in CONVERTERS[layout](tags).items()}
    unused = sorted(set(state) - set(source_key))
    if unused:
        raise KeyError(f'No {layout} parameter takes our {unused}.')
    exported = dict(template)
    for ours, theirs in source_key.items():
        if ours not in state:
            raise KeyError(f'{layout} parameter {theirs!r} has no source: ours lacks {ours!r}.')
        exported[theirs] = state[ours].detach().reshape(template[theirs].shape).clone()
    return exported
