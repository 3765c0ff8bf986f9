"""ConvNeXt backbone: arch tables against timm, the mmpretrain-compatible arguments, and the
fast / memory paths against the plain one. Parametrised over archs, never copied per size."""
import pytest
import timm
import torch
from torch import nn
from mmdet.registry import MODELS as MMDET_MODELS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmseg.registry import MODELS as MMSEG_MODELS

from convnext_dense.benchmark.implementations import reference_weights
from convnext_dense.models import ARCH_SETTINGS, ConvNeXt

# timm model names per (arch, V2?); timm has no V2 small / xlarge, no V1 huge.
TIMM_NAMES = {(arch, False): f'convnext_{arch}' for arch in ARCH_SETTINGS if arch != 'huge'}
TIMM_NAMES.update({(arch, True): f'convnextv2_{arch}' for arch in ARCH_SETTINGS
                   if arch not in ('small', 'xlarge')})
SMALL_ARCHS = ['atto', 'femto', 'pico']


def v2_kwargs(v2: bool) -> dict:
    return dict(use_grn=True, layer_scale_init_value=0.0) if v2 else {}


def trunk_param_count(model: torch.nn.Module, skip_prefix: str) -> int:
    return sum(p.numel() for name, p in model.named_parameters() if not name.startswith(skip_prefix))


@pytest.mark.parametrize('arch, v2', sorted(TIMM_NAMES))
def test_param_count_equals_timm(arch, v2):
    with torch.device('meta'):  # shapes only: huge / xlarge build instantly
        ours = ConvNeXt(arch=arch, **v2_kwargs(v2))
        theirs = timm.create_model(TIMM_NAMES[arch, v2], features_only=True)
    # timm's features_only trunk has no per-level output norms; ours adds norm0..norm3.
    assert trunk_param_count(ours, 'norm') == trunk_param_count(theirs, 'norm_pre')


@pytest.mark.parametrize('arch', SMALL_ARCHS)
@pytest.mark.parametrize('v2', [False, True])
def test_output_shapes_channels_and_strides(arch, v2):
    model = ConvNeXt(arch=arch, **v2_kwargs(v2)).eval()
    outs = model(torch.randn(2, 3, 96, 64))
    channels = list(ARCH_SETTINGS[arch].channels)
    assert model.out_channels == channels and model.out_strides == [4, 8, 16, 32]
    assert [tuple(o.shape) for o in outs] == [(2, c, 96 // s, 64 // s)
                                              for c, s in zip(channels, [4, 8, 16, 32])]


@pytest.mark.parametrize('registry', [MMDET_MODELS, MMSEG_MODELS, MMENGINE_MODELS],
                         ids=['mmdet', 'mmseg', 'mmengine'])
def test_registered_in_mmdet_mmseg_and_root(registry):
    model = registry.build(dict(type='ConvNeXt', arch='tiny', out_indices=(0, 1, 2, 3)))
    assert isinstance(model, ConvNeXt)
    outs = model.eval()(torch.randn(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == [96, 192, 384, 768]
    assert [64 // o.shape[-1] for o in outs] == [4, 8, 16, 32]


def test_arch_by_dict_and_out_indices_subset():
    model = ConvNeXt(arch=dict(depths=[1, 1, 2, 1], channels=[8, 16, 24, 32]),
                     out_indices=(1, -1)).eval()
    outs = model(torch.randn(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == [16, 32]
    assert hasattr(model, 'norm1') and hasattr(model, 'norm3') and not hasattr(model, 'norm0')


@pytest.mark.parametrize('kwargs, message', [
    (dict(arch='gigantic'), "Unknown ConvNeXt arch 'gigantic'"),
    (dict(arch=dict(depths=[1, 1, 1, 1])), "lacks key\\(s\\) \\['channels'\\]"),
    (dict(arch=dict(depths=[1, 1, 1], channels=[1, 2, 3, 4])), 'as many depths as channels'),
    (dict(arch=dict(depths=[1, 1, 1], channels=[1, 2, 3])), 'out_indices entry 3'),
    (dict(out_indices=(0, 4)), 'out_indices entry 4'),
    (dict(frozen_stages=5), 'frozen_stages=5'),
    (dict(drop_path_rate=1.0), 'drop_path_rate=1.0'),
    (dict(gap_before_final_norm=True), 'gap_before_final_norm'),
])
def test_bad_arguments_name_the_value(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ConvNeXt(**{'arch': 'atto', **kwargs})


def test_drop_path_grows_linearly_over_blocks():
    model = ConvNeXt(arch='atto', drop_path_rate=0.3)
    rates = [getattr(block.drop_path, 'drop_prob', 0.0) for stage in model.stages
             for block in stage]
    expected = torch.linspace(0, 0.3, sum(ARCH_SETTINGS['atto'].depths)).tolist()
    assert rates == pytest.approx(expected)


def test_layer_scale_and_grn_parameters():
    v1 = ConvNeXt(arch='atto', layer_scale_init_value=0.5)
    v2 = ConvNeXt(arch='atto', use_grn=True, layer_scale_init_value=0.0)
    block_v1, block_v2 = v1.stages[0][0], v2.stages[0][0]
    assert torch.equal(block_v1.gamma, torch.full((40, ), 0.5)) and block_v1.grn is None
    assert block_v2.gamma is None and block_v2.grn.gamma.shape == (160, )


@pytest.mark.parametrize('frozen_stages', [1, 3])
def test_frozen_stages_stay_frozen_through_train(frozen_stages):
    model = ConvNeXt(arch='atto', frozen_stages=frozen_stages)
    assert model.train() is model and model.eval() is model
    model.train()
    for i in range(4):
        frozen = i < frozen_stages
        for module in (model.downsample_layers[i], model.stages[i]):
            assert all(p.requires_grad != frozen for p in module.parameters())
            assert all(m.training != frozen for m in module.modules())
    model(torch.randn(1, 3, 64, 64))[-1].sum().backward()
    assert model.stages[0][0].dwconv.weight.grad is None
    assert model.stages[3][0].dwconv.weight.grad is not None


def outputs_and_grads(model: ConvNeXt, x: torch.Tensor):
    outs = model(x)
    loss = sum((o * torch.linspace(-1, 1, o.numel()).view_as(o)).sum() for o in outs)
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters()}
    return [o.detach() for o in outs], grads


PLAIN = dict(channels_last=False, fused=False, with_cp=False)


@pytest.mark.parametrize('v2', [False, True])
@pytest.mark.parametrize('variant', [dict(with_cp=True), dict(channels_last=True),
                                     dict(fused=True), dict(channels_last=True, fused=True)],
                         ids=['with_cp', 'channels_last', 'fused', 'default'])
def test_memory_and_layout_paths_match_plain(v2, variant):
    plain = ConvNeXt(arch='atto', **PLAIN, **v2_kwargs(v2)).train()
    other = ConvNeXt(arch='atto', **{**PLAIN, **variant}, **v2_kwargs(v2)).train()
    # Weights at a scale where every part of each block shows in the outputs.
    state = reference_weights('atto', v2)
    plain.load_state_dict(state)
    other.load_state_dict(state)
    x = torch.randn(2, 3, 64, 64)
    outs_a, grads_a = outputs_and_grads(plain, x)
    outs_b, grads_b = outputs_and_grads(other, x)
    for a, b in zip(outs_a, outs_b):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    # Gradients sum thousands of products in a different order on each path.
    for name in grads_a:
        torch.testing.assert_close(grads_a[name], grads_b[name], atol=1e-4, rtol=1e-4,
                                   msg=lambda m: f'{name}: {m}')
    if variant.get('channels_last'):
        assert outs_b[0].is_contiguous(memory_format=torch.channels_last)


def test_drop_path_is_stochastic_in_training_only():
    model = ConvNeXt(arch='atto', drop_path_rate=0.5)
    x = torch.randn(4, 3, 32, 32)
    model.train()
    assert not torch.allclose(model(x)[-1], model(x)[-1])
    model.eval()
    torch.testing.assert_close(model(x)[-1], model(x)[-1])


def test_image_smaller_than_the_total_stride_is_refused_by_name():
    model = ConvNeXt(arch='atto').eval()
    assert model.total_stride == 32
    model(torch.randn(1, 3, 32, 32))
    with pytest.raises(ValueError, match=r'at least 32 x 32 pixels .* got 31 x 64'):
        model(torch.randn(1, 3, 31, 64))


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_grn_stays_finite_where_a_low_precision_norm_overflows(dtype):
    from convnext_dense.models.backbones.convnext import GlobalResponseNorm
    grn = GlobalResponseNorm(8)
    nn.init.normal_(grn.gamma)
    nn.init.normal_(grn.beta)
    x = 3000 * (1 + torch.rand(1, 64, 64, 8))  # spatial L2 norms ~ 3e5 > fp16's 65504
    naive = torch.linalg.vector_norm(x.to(dtype), dim=(1, 2))
    if dtype == torch.float16:
        assert not naive.isfinite().all()  # what the norm in the input dtype would give
    reference = grn(x)
    low = grn.to(dtype)(x.to(dtype))
    assert low.isfinite().all()
    # Within a few roundings of the input (fp16: 2^-11, bf16: 2^-8 relative; x ~ 3000-6000).
    assert ((low.float() - reference).abs() <= 4 * torch.finfo(dtype).eps * x.abs() + 1).all()


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_layer_norms_keep_fp32_statistics_in_low_precision(dtype):
    from convnext_dense.models.backbones.convnext import LayerNorm2d
    x = 1e4 * torch.rand(2, 8, 16, 16)  # variance ~ 8e6, past fp16's range
    for norm, inp in ((LayerNorm2d(8), x), (nn.LayerNorm(8), x.permute(0, 2, 3, 1))):
        low = norm.to(dtype)(inp.to(dtype))
        assert low.isfinite().all()
        torch.testing.assert_close(low.float(), norm.float()(inp), rtol=2e-2, atol=2e-2)


def test_v2_under_bf16_autocast_matches_fp32_with_large_activations():
    model = ConvNeXt(arch='atto', use_grn=True, layer_scale_init_value=0.0).eval()
    x = 50 * torch.randn(1, 3, 128, 128)
    with torch.no_grad():
        reference = model(x)
        with torch.autocast('cpu', dtype=torch.bfloat16):
            low = model(x)
    for r, l in zip(reference, low):
        assert l.float().isfinite().all()
        # bf16 keeps 8 bits of mantissa (~0.4% per rounding); errors grow over the blocks.
        assert (l.float() - r).abs().mean() / r.abs().mean() < 0.05
