"""Layer-wise learning-rate decay for ConvNeXt detectors and segmentors (the paper's recipe).

Every parameter gets a layer id; its learning rate is ``lr * decay_rate ** (num_layers + 1 -
id)`` and its weight decay is 0 for 1-D tensors (norms, layer scale, GRN) and biases. Ids follow
the official ConvNeXt constructor, by parameter name (``backbone.`` + our / the official names):

``layer_wise`` (detection): ``downsample_layers.0`` 0; ``stages.0`` 1; ``downsample_layers.1``
and ``stages.1`` 2; ``downsample_layers.2`` 3; block b of ``stages.2`` 3 + b // 3;
``downsample_layers.3`` and ``stages.3`` ``num_layers``; everything else ``num_layers + 1``.

``stage_wise`` (segmentation): every ``downsample_layers.i`` 0; ``stages.i`` i + 1; everything
else ``num_layers + 1``. (So with num_layers=12 the deepest stage still gets
``decay_rate ** 9``: the official recipes were tuned with this, so we keep it.)

Parameters with ``requires_grad=False`` (frozen stages) are left out of the optimizer.
"""
from typing import Dict, List, NamedTuple, Optional

import torch.nn as nn
from mmengine.logging import print_log
from mmengine.optim import DefaultOptimWrapperConstructor

DECAY_TYPES = ('layer_wise', 'stage_wise')
_DOWNSAMPLE = 'backbone.downsample_layers.'
_STAGES = 'backbone.stages.'


def layer_id_layer_wise(name: str, num_layers: int) -> int:
    """The official ``layer_wise`` id of a parameter of the full model."""
    if name.startswith(_DOWNSAMPLE):
        stage = int(name.split('.')[2])
        return (0, 2, 3, num_layers)[stage]
    if name.startswith(_STAGES):
        stage, block = (int(part) for part in name.split('.')[2:4])
        return (1, 2, 3 + block // 3, num_layers)[stage]
    return num_layers + 1


def layer_id_stage_wise(name: str, num_layers: int) -> int:
    """The official ``stage_wise`` id of a parameter of the full model."""
    if name.startswith(_DOWNSAMPLE):
        return 0
    if name.startswith(_STAGES):
        return int(name.split('.')[2]) + 1
    return num_layers + 1


LAYER_ID_FUNCTIONS = {'layer_wise': layer_id_layer_wise, 'stage_wise': layer_id_stage_wise}


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

    def assign(self, name: str, ndim: int) -> ParamAssignment:
        layer_id = LAYER_ID_FUNCTIONS[self.decay_type](name, self.num_layers)
        scale = self.decay_rate**(self.num_layers + 1 - layer_id)
        weight_decay = 0.0 if has_no_weight_decay(name, ndim) else self.base_wd
        return ParamAssignment(name, layer_id, scale, weight_decay)

    def add_params(self, params: List[dict], module: nn.Module, prefix: str = '',
                   is_dcn_module=None) -> None:
        """Appends one group per (layer id, weight decay) to ``params``."""
        named = [(n, p) for n, p in module.named_parameters(prefix=prefix) if p.requires_grad]
        if not any(name.startswith(('backbone.stages.', 'backbone.downsample_layers.'))
                   for name, _ in named):
            raise ValueError(
                f'{type(self).__name__} found no trainable backbone.stages / '
                f'backbone.downsample_layers parameters in {type(module).__name__}; it needs a '
                f'ConvNeXt backbone under the attribute `backbone`.')
        groups: Dict[tuple, dict] = {}
        assignments = []
        for name, param in named:
            assignment = self.assign(name, param.ndim)
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

