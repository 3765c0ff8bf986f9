"""Layer-decay groups of every parameter of a small detector-like model, against tables worked
out by hand from the official ConvNeXt constructor's rules (decay_rate 0.5, num_layers 6, so
lr_scale = 0.5 ** (7 - layer id))."""
import re

import pytest
import torch
from mmengine.optim import build_optim_wrapper
from torch import nn

from convnext_dense.models import ConvNeXt

# Stage 2 has 4 blocks, so blocks 0-2 and block 3 fall on different layer-wise ids.
SMALL_ARCH = dict(depths=[1, 1, 4, 1], channels=[8, 8, 8, 8])

# (parameter-name pattern, layer_wise lr_scale, stage_wise lr_scale), by hand:
# layer_wise ids: ds0 0, st0 1, ds1/st1 2, ds2 3, st2 b0-2 3, st2 b3 4, ds3/st3 6, rest 7.
# stage_wise ids: ds* 0, st_i i+1, rest 7.
LR_SCALE_TABLE = [
    (r'backbone\.downsample_layers\.0\.', 1 / 128, 1 / 128),
    (r'backbone\.stages\.0\.', 1 / 64, 1 / 64),
    (r'backbone\.downsample_layers\.1\.', 1 / 32, 1 / 128),
    (r'backbone\.stages\.1\.', 1 / 32, 1 / 32),
    (r'backbone\.downsample_layers\.2\.', 1 / 16, 1 / 128),
    (r'backbone\.stages\.2\.[012]\.', 1 / 16, 1 / 16),
    (r'backbone\.stages\.2\.3\.', 1 / 8, 1 / 16),
    (r'backbone\.downsample_layers\.3\.', 1 / 2, 1 / 128),
    (r'backbone\.stages\.3\.', 1 / 2, 1 / 8),
    (r'backbone\.norm\d\.', 1.0, 1.0),
    (r'neck\.', 1.0, 1.0),
]
# Weight decay only on conv / linear weights: stem and downsample convs, dwconv, pwconv1/2, neck.
DECAYED = (r'backbone\.downsample_layers\.0\.0\.weight|backbone\.downsample_layers\.[123]\.1'
           r'\.weight|backbone\.stages\.\d\.\d\.(dwconv|pwconv1|pwconv2)\.weight|neck\.weight')


class TinyDetector(nn.Module):
    def __init__(self, **backbone_kwargs):
        super().__init__()
        self.backbone = ConvNeXt(arch=SMALL_ARCH, **backbone_kwargs)
        self.neck = nn.Conv2d(8, 8, 1)


def build(model, decay_type, lr=1.0, weight_decay=0.05):
    return build_optim_wrapper(model, dict(
        constructor='ConvNeXtLayerDecayOptimizerConstructor',
        optimizer=dict(type='AdamW', lr=lr, weight_decay=weight_decay),
        paramwise_cfg=dict(decay_rate=0.5, decay_type=decay_type, num_layers=6)))


def group_of_each_parameter(optim_wrapper):
    return {name: group for group in optim_wrapper.optimizer.param_groups
            for name in group['param_names']}


def expected_scale(name, column):
    matches = [row[column] for row in LR_SCALE_TABLE if re.match(row[0], name)]
    assert len(matches) == 1, f'{name} matches {len(matches)} table rows'
    return matches[0]


@pytest.mark.parametrize('decay_type, column', [('layer_wise', 1), ('stage_wise', 2)])
@pytest.mark.parametrize('v2', [False, True], ids=['v1', 'v2-grn'])
def test_every_parameter_gets_the_hand_computed_group(decay_type, column, v2):
    kwargs = dict(use_grn=True, layer_scale_init_value=0.0) if v2 else {}
    model = TinyDetector(**kwargs)
    groups = group_of_each_parameter(build(model, decay_type, lr=2e-4))
    names = [name for name, _ in model.named_parameters()]
    assert sorted(groups) == sorted(names)
    for name in names:
        group = groups[name]
        assert group['lr_scale'] == pytest.approx(expected_scale(name, column)), name
        assert group['lr'] == pytest.approx(2e-4 * expected_scale(name, column)), name
        decayed = re.fullmatch(DECAYED, name) is not None
        assert group['weight_decay'] == (0.05 if decayed else 0.0), name
    if v2:
        assert groups['backbone.stages.0.0.grn.gamma']['weight_decay'] == 0.0
    else:
        assert groups['backbone.stages.0.0.gamma']['weight_decay'] == 0.0


def test_frozen_parameters_are_left_out():
    model = TinyDetector(frozen_stages=1)
    groups = group_of_each_parameter(build(model, 'layer_wise'))
    assert not any(name.startswith(('backbone.stages.0.', 'backbone.downsample_layers.0.'))
                   for name in groups)
    assert 'backbone.stages.1.0.dwconv.weight' in groups


def test_groups_train_with_their_learning_rates():
    model = TinyDetector()
    wrapper = build(model, 'layer_wise', lr=0.1)
    loss = sum(o.sum() for o in model.backbone(torch.randn(1, 3, 64, 64)))
    wrapper.update_params(loss)
    lrs = sorted({round(group['lr'], 8) for group in wrapper.optimizer.param_groups})
    assert lrs == sorted({round(0.1 * s, 8) for _, s, _ in LR_SCALE_TABLE})


def test_start_up_dump_lists_each_parameter(capsys):
    from mmengine.logging import MMLogger
    MMLogger.get_instance('layer_decay_dump', log_level='INFO')
    build(TinyDetector(), 'layer_wise')
    # print_log goes to the current mmengine logger, which writes to stdout.
    out = capsys.readouterr().out
    assert 'Layer decay (layer_wise, decay_rate=0.5, num_layers=6' in out
    line = next(line for line in out.splitlines() if 'backbone.stages.2.3.pwconv1.weight' in line)
    assert line.split()[-3:] == ['4', '0.125', '0.05']


@pytest.mark.parametrize('paramwise_cfg, message', [
    (dict(decay_rate=0.9), r"lacks \['num_layers'\]"),
    (dict(decay_rate=0.9, num_layers=6, decay_type='block_wise'), "decay_type='block_wise'"),
])
def test_bad_settings_are_named(paramwise_cfg, message):
    with pytest.raises(ValueError, match=message):
        build_optim_wrapper(TinyDetector(), dict(
            constructor='ConvNeXtLayerDecayOptimizerConstructor',
            optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.05),
            paramwise_cfg=paramwise_cfg))


def test_model_without_convnext_backbone_is_refused():
    with pytest.raises(ValueError, match='no trainable backbone that says its parameters'):
        build(nn.Sequential(nn.Linear(2, 2)), 'layer_wise')


class StagesDetector(nn.Module):
    def __init__(self, depths):
        super().__init__()
        self.backbone = ConvNeXt(arch=dict(depths=depths, channels=[8] * len(depths)),
                                 out_indices=tuple(range(len(depths))))
        self.neck = nn.Conv2d(8, 8, 1)


def layer_ids(depths, decay_type, num_layers=6):
    wrapper = build_optim_wrapper(StagesDetector(depths), dict(
        constructor='ConvNeXtLayerDecayOptimizerConstructor',
        optimizer=dict(type='AdamW', lr=1.0, weight_decay=0.05),
        paramwise_cfg=dict(decay_rate=0.5, decay_type=decay_type, num_layers=num_layers)))
    ids = {}
    for name, group in group_of_each_parameter(wrapper).items():
        parts = name.split('.')
        key = ('neck' if parts[0] == 'neck' else '.'.join(parts[1:4]) if parts[1] == 'stages'
               else '.'.join(parts[1:3]) if parts[1] == 'downsample_layers' else parts[1])
        ids.setdefault(key, set()).add(group['layer_id'])
    return {key: value.pop() for key, value in ids.items() if len(value) == 1}


# By the official rules, carried to S stages: the stem 0, stage i < S - 2 (and its downsample)
# i + 1, block b of stage S - 2 S - 1 + b // 3, the last stage and its downsample num_layers.
@pytest.mark.parametrize('depths, expected', [
    ([4], {'downsample_layers.0': 0, 'stages.0.0': 6, 'stages.0.3': 6}),
    ([4, 1], {'downsample_layers.0': 0, 'stages.0.0': 1, 'stages.0.3': 2,
              'downsample_layers.1': 6, 'stages.1.0': 6}),
    ([1, 1, 1, 4, 1], {'downsample_layers.0': 0, 'stages.0.0': 1, 'downsample_layers.1': 2,
                       'stages.1.0': 2, 'downsample_layers.2': 3, 'stages.2.0': 3,
                       'downsample_layers.3': 4, 'stages.3.0': 4, 'stages.3.3': 5,
                       'downsample_layers.4': 6, 'stages.4.0': 6, 'norm4': 7, 'neck': 7}),
])
def test_layer_wise_ids_for_any_number_of_stages(depths, expected):
    ids = layer_ids(depths, 'layer_wise')
    assert {key: ids[key] for key in expected} == expected


@pytest.mark.parametrize('depths', [[2], [2, 1], [1, 1, 1, 2, 1]])
def test_stage_wise_ids_for_any_number_of_stages(depths):
    ids = layer_ids(depths, 'stage_wise')
    for stage in range(len(depths)):
        assert ids[f'downsample_layers.{stage}'] == 0
        assert ids[f'stages.{stage}.0'] == stage + 1
    assert ids['neck'] == 7


def test_too_few_layers_for_the_arch_are_named():
    with pytest.raises(ValueError, match=r'num_layers=3 is too few for ConvNeXt '
                       r'backbone\.downsample_layers\.3\..* \(layer id 4\); set num_layers to at least 4'):
        layer_ids([1, 1, 1, 4, 1], 'layer_wise', num_layers=3)
