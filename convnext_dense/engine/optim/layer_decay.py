"""Layer-wise learning-rate decay for ConvNeXt detectors and segmentors (the paper's recipe).

Every parameter gets a layer id; its learning rate is ``lr * decay_rate ** (num_layers + 1 -
id)`` and its weight decay is 0 for 1-D tensors (norms, layer scale, GRN) and biases. The
backbone says which layer each of its parameters belongs to (``backbone.layer_id(name,
decay_type, num_layers)``: for ConvNeXt, the official constructor's numbering, any number of
stages); everything outside the backbone gets ``num_layers + 1``.

``layer_wise`` is the detection recipes', ``stage_wise`` the segmentation ones' (with
num_layers=12 the deepest stage still gets ``decay_rate ** 9``: the official recipes were tuned
with this, so we keep it).

Parameters with ``requires_grad=False`` (frozen stages) are left out of the optimizer.
"""
from typing import Dict, List, NamedTuple, Optional

import torch.nn as nn
from mmengine.logging import print_log
from mmengine.optim import DefaultOptimWrapperConstructor

DECAY_TYPES = ('layer_wise', 'stage_wise')
BACKBONE = 'backbone.'


def has_no_weight_decay(name: str, ndim: int) -> bool:
    """Norm weights, biases, layer-scale gammas and GRN gamma / beta get no weight decay."""
    return ndim == 1 or name.endswith(('.bias', '.gamma', '.beta'))


class ParamAssignment(NamedTuple):
    """Where one parameter goes: its layer id, lr scale and weight decay."""
    name: str
    layer_id: int
    lr_scale: float
    weight_decay: float


class ConvNeXtLayerDecayOptimizerConstructor(DefaultOptimWrapperConstructor):
    """Builds an optim wrapper whose parameter groups carry layer-decayed learning rates.

    Config::

        optim_wrapper = dict(
            constructor='ConvNeXtLayerDecayOptimizerConstructor',
            optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.05),
            paramwise_cfg=dict(decay_rate=0.95, decay_type='layer_wise', num_layers=6))

    The model (its ``.module`` if wrapped) must hold the ConvNeXt backbone as ``backbone``.
    Each group has ``params``, ``lr``, ``weight_decay`` and, for reading, ``lr_scale``,
    ``layer_id`` and ``param_names``.
    """

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg: Optional[dict] = None):
        super().__init__(optim_wrapper_cfg, paramwise_cfg)
        cfg = self.paramwise_cfg
        missing = [key for key in ('decay_rate', 'num_layers') if key not in cfg]
        if missing:
            raise ValueError(f'{type(self).__name__} paramwise_cfg lacks {missing}.')
        self.decay_type = cfg.get('decay_type', 'layer_wise')
        if self.decay_type not in DECAY_TYPES:
            raise ValueError(f'paramwise_cfg decay_type={self.decay_type!r} is not one of '
                             f'{DECAY_TYPES}.')
        self.decay_rate = float(cfg['decay_rate'])
        self.num_layers = int(cfg['num_layers'])
        if self.base_lr is None or self.base_wd is None:
            raise ValueError(f'{type(self).__name__} needs optimizer lr and weight_decay.')

    def assign(self, backbone: nn.Module, name: str, ndim: int) -> ParamAssignment:
        """The group of parameter ``name`` (of the whole model) of ``ndim`` dimensions."""
        layer_id = None
        if name.startswith(BACKBONE):
            layer_id = backbone.layer_id(name[len(BACKBONE):], self.decay_type, self.num_layers)
        if layer_id is None:
            layer_id = self.num_layers + 1
        elif not 0 <= layer_id <= self.num_layers:
                raise ValueError(f'paramwise_cfg num_layers={self.num_layers} is too few for '
                                 f'{type(backbone).__name__} {name} (layer id {layer_id}); '
                                 f'set num_layers to at least {layer_id}.')
        scale = self.decay_rate**(self.num_layers + 1 - layer_id)
        weight_decay = 0.0 if has_no_weight_decay(name, ndim) else self.base_wd
        return ParamAssignment(name, layer_id, scale, weight_decay)

    def add_params(self, params: List[dict], module: nn.Module, prefix: str = '',
                   is_dcn_module=None) -> None:
        """Appends one group per (layer id, weight decay) to ``params``."""
        named = [(n, p) for n, p in module.named_parameters(prefix=prefix) if p.requires_grad]
        backbone = getattr(module, 'backbone', None)
        if not callable(getattr(backbone, 'layer_id', None)) or not any(
                name.startswith(BACKBONE) for name, _ in named):
            raise ValueError(
                f'{type(self).__name__} found no trainable backbone that says its parameters\' '
                f'layer ids (layer_id(name, decay_type, num_layers)) in {type(module).__name__}; '
                f'it needs a ConvNeXt backbone under the attribute `backbone`.')
        groups: Dict[tuple, dict] = {}
        assignments = []
        for name, param in named:
            assignment = self.assign(backbone, name, param.ndim)
            assignments.append(assignment)
            key = (assignment.layer_id, assignment.weight_decay)
            if key not in groups:
                groups[key] = dict(params=[], param_names=[], lr=self.base_lr * assignment.lr_scale,
                                   lr_scale=assignment.lr_scale, layer_id=assignment.layer_id,
                                   weight_decay=assignment.weight_decay)
            groups[key]['params'].append(param)
            groups[key]['param_names'].append(name)
        params.extend(groups[key] for key in sorted(groups))
        print_log(self.describe(assignments), logger='current')

    def describe(self, assignments: List[ParamAssignment]) -> str:
        """A readable table of every parameter's layer id, lr scale and weight decay."""
        lines = [f'Layer decay ({self.decay_type}, decay_rate={self.decay_rate}, '
                 f'num_layers={self.num_layers}, lr={self.base_lr}, '
                 f'weight_decay={self.base_wd}):',
                 f'{"parameter":<60} {"layer":>5} {"lr_scale":>10} {"weight_decay":>12}']
        lines += [f'{a.name:<60} {a.layer_id:>5} {a.lr_scale:>10.4g} {a.weight_decay:>12.4g}'
                  for a in assignments]
        return '\n'.join(lines)

