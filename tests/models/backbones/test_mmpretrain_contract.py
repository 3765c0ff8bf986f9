"""mmpretrain's ConvNeXt argument set, whole: every argument mmpretrain 1.2.0's ConvNeXt takes
is accepted here; where its value means what ours computes, mmpretrain's model and ours, given
the same arguments and the same weights, emit the same maps; where it does not, ours refuses it
with one line naming the argument and why."""
import inspect

import pytest
import torch
from mmpretrain.models import ConvNeXt as MMPretrainConvNeXt

from convnext_dense.checkpoint import convert_state_dict
from convnext_dense.models import ConvNeXt

# Arguments a dense-prediction config gives mmpretrain's ConvNeXt (gap_before_final_norm=False,
# as every mmdet / mmseg ConvNeXt config sets), varied over what mmpretrain's own tests vary.
SAME_OUTPUTS = {
    'all-stages': dict(arch='atto', out_indices=(0, 1, 2, 3)),
    'last-stage-by-negative-index': dict(arch='atto', out_indices=-1),
    'frozen-and-some-stages': dict(arch='atto', out_indices=(1, 3), frozen_stages=2),
    'custom-five-stage-arch': dict(arch=dict(depths=[1, 1, 2, 1, 1],
                                             channels=[8, 16, 24, 32, 40]),
                                   out_indices=(0, 1, 2, 3, 4)),
    'v2-grn-no-layer-scale': dict(arch='atto', use_grn=True, layer_scale_init_value=0.0),
    'explicit-defaults': dict(arch='atto', norm_cfg=dict(type='LN2d', eps=1e-6),
                              act_cfg=dict(type='GELU'), linear_pw_conv=True),
    'other-eps-and-activation': dict(arch='atto', norm_cfg=dict(type='LN2d', eps=1e-5),
                                     act_cfg=dict(type='ReLU')),
    'checkpointing-and-drop-path': dict(arch='atto', with_cp=True, drop_path_rate=0.2),
    'stem-and-input-channels': dict(arch='atto', stem_patch_size=2, in_channels=1),
}
REFUSED = {
    'gap_before_final_norm': (dict(gap_before_final_norm=True), 'classification'),
    'linear_pw_conv': (dict(linear_pw_conv=False), '1x1 convolutions'),
    'norm_cfg': (dict(norm_cfg=dict(type='BN')), 'LayerNorms over channels'),
}


def test_every_mmpretrain_argument_is_accepted():
    theirs = set(inspect.signature(MMPretrainConvNeXt).parameters)
    ours = set(inspect.signature(ConvNeXt).parameters)
    assert theirs <= ours, f'not accepted: {sorted(theirs - ours)}'


def _randomised(model: torch.nn.Module) -> torch.nn.Module:
    with torch.no_grad():
        for param in model.parameters():
            param.normal_(0, 0.1)
        for module in model.modules():
            if isinstance(module, torch.nn.LayerNorm):
                module.weight.add_(1.0)
    return model


@pytest.mark.parametrize('name', SAME_OUTPUTS)
def test_same_arguments_same_weights_same_maps(name):
    kwargs = dict(dict(out_indices=(0, 1, 2, 3)), **SAME_OUTPUTS[name],
                  gap_before_final_norm=False)  # both defaults differ (documented)
    reference = _randomised(MMPretrainConvNeXt(**kwargs))
    reference.eval()
    ours = ConvNeXt(**kwargs)
    state, layout = convert_state_dict(reference.state_dict())
    assert layout == 'mmpretrain'
    missing, unexpected = ours.load_state_dict(state, strict=True)
    ours.eval()
    x = torch.randn(2, kwargs.get('in_channels', 3), 64, 64)
    with torch.no_grad():
        expected, got = reference(x), ours(x)
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_frozen_stages_match_mmpretrains_modes():
    kwargs = dict(arch='atto', frozen_stages=2, gap_before_final_norm=False)
    reference, ours = MMPretrainConvNeXt(**kwargs), ConvNeXt(**kwargs)
    reference.train()
    ours.train()
    for i in range(4):
        assert ours.stages[i].training == reference.stages[i].training
        assert ([p.requires_grad for p in ours.stages[i].parameters()] ==
                [p.requires_grad for p in reference.stages[i].parameters()])


@pytest.mark.parametrize('argument', REFUSED)
def test_other_values_are_refused_naming_the_argument_and_why(argument):
    kwargs, why = REFUSED[argument]
    MMPretrainConvNeXt(arch='atto', **kwargs)  # valid for mmpretrain
    with pytest.raises(ValueError, match=f'{argument}=.*{why}'):
        ConvNeXt(arch='atto', **kwargs)


def test_documented_default_differences():
    """What a config relying on mmpretrain's defaults gets differently (README, docstring)."""
    theirs = inspect.signature(MMPretrainConvNeXt).parameters
    ours = inspect.signature(ConvNeXt).parameters
    differing = {name for name in theirs if theirs[name].default != ours[name].default}
    assert differing == {'out_indices', 'gap_before_final_norm', 'norm_cfg', 'act_cfg',
                         'init_cfg'}
    # norm_cfg / act_cfg: None means mmpretrain's default values.
    assert ConvNeXt(arch='atto', norm_cfg=None).stages[0][0].norm.eps == 1e-6
    assert type(ConvNeXt(arch='atto', act_cfg=None).stages[0][0].act) is torch.nn.GELU
    assert 'out_indices=(0, 1, 2, 3)' in ConvNeXt.__doc__
