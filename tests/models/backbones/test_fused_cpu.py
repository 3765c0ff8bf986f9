"""The oneDNN-fused CPU path of the ConvNeXt block against the plain PyTorch ops: same outputs
and gradients, on weights of a scale where every part of the block shows in the outputs."""
import pytest
import torch
import torch.nn.functional as F

import convnext_dense.models.backbones.convnext as convnext_module
from convnext_dense.benchmark.implementations import reference_weights
from convnext_dense.models import ConvNeXt
from convnext_dense.models.backbones import _fused_cpu
from convnext_dense.models.backbones._fused_cpu import (bf16_fused_inference_applies,
                                                        depthwise_conv2d,
                                                        fused_cpu_path_applies, linear,
                                                        linear_gelu, linear_scale_residual)
from convnext_dense.models.backbones.convnext import ConvNeXtBlock

pytestmark = pytest.mark.skipif(not torch.backends.mkldnn.is_available(),
                                reason='the fused path needs oneDNN')


def randomised_block(channels: int, v2: bool) -> ConvNeXtBlock:
    block = ConvNeXtBlock(channels, layer_scale_init_value=0.0 if v2 else 1e-6, use_grn=v2)
    with torch.no_grad():
        for name, param in block.named_parameters():
            param.copy_(torch.rand_like(param) + 0.5 if param.dim() == 1 and 'bias' not in name
                        else torch.randn_like(param) * 0.2)
    return block


def run_block(block: ConvNeXtBlock, x: torch.Tensor, fused: bool):
    block.fused = fused
    x = x.detach().clone().requires_grad_()
    out = block(x)
    (out * torch.linspace(-1, 1, out.numel()).view_as(out)).sum().backward()
    grads = {n: p.grad.clone() for n, p in block.named_parameters()}
    block.zero_grad(set_to_none=True)
    return out.detach(), x.grad, grads


def infer_plain_and_fused(block: ConvNeXtBlock, x: torch.Tensor):
    """The block's inference outputs on its plain path, then on its fused path."""
    with torch.inference_mode():
        block.fused = False
        plain = block(x)
        block.fused = True
        return plain, block(x)


# (channels, side): 8 x 16 x 16 tokens fold layer scale into the weight (tokens >= 4C); 32
# channels at 4 x 4 do not; 60 a side takes oneDNN's weight-gradient kernel instead of tiles.
@pytest.mark.parametrize('channels, side', [(8, 16), (32, 4), (8, 30), (4, 60)])
@pytest.mark.parametrize('v2', [False, True], ids=['v1', 'v2'])
@pytest.mark.parametrize('layout', ['nchw', 'nhwc'])
def test_fused_block_matches_plain_in_training(channels, side, v2, layout):
    block = randomised_block(channels, v2).train()
    x = torch.randn(2, channels, side, side)
    if layout == 'nhwc':
        x = x.contiguous(memory_format=torch.channels_last)
    out_plain, dx_plain, grads_plain = run_block(block, x, fused=False)
    out_fused, dx_fused, grads_fused = run_block(block, x, fused=True)
    torch.testing.assert_close(out_fused, out_plain, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(dx_fused, dx_plain, atol=1e-4, rtol=1e-4)
    for name in grads_plain:
        torch.testing.assert_close(grads_fused[name], grads_plain[name], atol=1e-4, rtol=1e-4,
                                   msg=lambda m: f'{name}: {m}')


# Masks for these seeds keep 2 of 6 samples, none, and all of them.
@pytest.mark.parametrize('seed, drop_prob', [(0, 0.5), (3, 0.5), (0, 0.05)])
@pytest.mark.parametrize('v2', [False, True], ids=['v1', 'v2'])
def test_stochastic_depth_runs_kept_samples_only_with_the_plain_paths_mask(seed, drop_prob, v2,
                                                                           monkeypatch):
    block = randomised_block(8, v2).train()
    block.drop_path = convnext_module.DropPath(drop_prob)
    x = torch.randn(6, 8, 12, 12)
    results, batch_sizes = [], []
    original = ConvNeXtBlock._forward_fused_differentiable

    def counting(self, x, *args):
        batch_sizes.append(x.shape[0])
        return original(self, x, *args)

    monkeypatch.setattr(ConvNeXtBlock, '_forward_fused_differentiable', counting)
    for fused in (False, True):
        torch.manual_seed(seed)
        results.append(run_block(block, x, fused=fused))
    torch.manual_seed(seed)
    kept = int(convnext_module.keep_mask(x, drop_prob).sum())
    assert batch_sizes == ([kept] if kept else [])  # the dropped samples are never computed
    (out_plain, dx_plain, grads_plain), (out_fused, dx_fused, grads_fused) = results
    torch.testing.assert_close(out_fused, out_plain, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(dx_fused, dx_plain, atol=1e-4, rtol=1e-4)
    for name, grad in grads_plain.items():
        torch.testing.assert_close(grads_fused[name], grad, atol=1e-4, rtol=1e-4, msg=name)


def drop_path_module_result(block: ConvNeXtBlock, x: torch.Tensor, seed: int):
    """The block as x + DropPath(branch), the reference stochastic depth, with autograd."""
    torch.manual_seed(seed)
    x = x.detach().clone().requires_grad_()
    out = block._forward_plain(x)
    out.float().square().sum().backward()
    grads = {n: p.grad.clone() for n, p in block.named_parameters()}
    block.zero_grad(set_to_none=True)
    return out.detach(), x.grad, grads


@pytest.mark.parametrize('autocast', [False, True], ids=['fp32', 'bf16-autocast'])
@pytest.mark.parametrize('fused', [False, True], ids=['plain', 'fused'])
def test_kept_samples_equal_drop_path_modules_result(fused, autocast):
    # Seed 0 keeps 2 of 6 samples at drop probability 0.5. Under bf16 autocast both run the
    # same bf16 ops on the kept samples (GEMMs of another row count may round differently),
    # on a bf16 input, as a stage's first block gets from autocast's downsampling conv.
    block = randomised_block(8, v2=False).train()
    block.drop_path = convnext_module.DropPath(0.5)
    block.fused = fused
    x = torch.randn(6, 8, 12, 12, dtype=torch.bfloat16 if autocast else torch.float32)
    tolerance = dict(atol=3e-2, rtol=3e-2) if autocast else dict(atol=1e-4, rtol=1e-4)
    with torch.autocast('cpu', dtype=torch.bfloat16, enabled=autocast):
        out_ref, dx_ref, grads_ref = drop_path_module_result(block, x, seed=0)
        torch.manual_seed(0)
        x_kept = x.detach().clone().requires_grad_()
        out = block(x_kept)
        out.float().square().sum().backward()
    assert out.dtype == out_ref.dtype
    torch.testing.assert_close(out, out_ref, **tolerance)
    torch.testing.assert_close(x_kept.grad, dx_ref, **tolerance)
    for name, grad in grads_ref.items():
        torch.testing.assert_close(block.get_parameter(name).grad, grad, **tolerance, msg=name)


@pytest.mark.parametrize('v2', [False, True], ids=['v1', 'v2'])
def test_fused_block_matches_plain_in_inference(v2):
    block = randomised_block(16, v2).eval()
    x = torch.randn(2, 16, 12, 12).contiguous(memory_format=torch.channels_last)
    plain, fused = infer_plain_and_fused(block, x)
    torch.testing.assert_close(fused, plain, atol=1e-5, rtol=1e-5)
    assert fused.is_contiguous(memory_format=torch.channels_last)


@pytest.mark.parametrize('v2', [False, True], ids=['v1', 'v2'])
def test_backbone_fused_equals_plain_backbone(v2):
    kwargs = dict(use_grn=v2, layer_scale_init_value=0.0 if v2 else 1e-6)
    state = reference_weights('atto', v2)
    fused = ConvNeXt('atto', **kwargs)
    plain = ConvNeXt('atto', fused=False, channels_last=False, **kwargs)
    fused.load_state_dict(state)
    plain.load_state_dict(state)
    x = torch.randn(2, 3, 64, 96)
    for a, b in zip(fused.eval()(x), plain.eval()(x)):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def record_epilogues(monkeypatch) -> list:
    """Makes oneDNN's fused linear record the epilogue of each call in the returned list."""
    calls = []
    real = torch.ops.mkldnn._linear_pointwise

    class Recording:
        def __call__(self, *args):
            calls.append(args[3])
            return real(*args)

        binary = real.binary

    monkeypatch.setattr(_fused_cpu.torch.ops.mkldnn, '_linear_pointwise', Recording())
    return calls


def test_fused_kernels_are_really_used(monkeypatch):
    calls = record_epilogues(monkeypatch)
    block = randomised_block(8, v2=False).eval()
    with torch.inference_mode():
        block(torch.randn(1, 8, 16, 16))
    assert calls == ['gelu']


def test_gate_refuses_autocast_other_dtypes_tracing_and_the_switch():
    x = torch.randn(1, 4, 8, 8)
    assert fused_cpu_path_applies(x, enabled=True)
    assert not fused_cpu_path_applies(x, enabled=False)
    assert not fused_cpu_path_applies(x.bfloat16(), enabled=True)
    assert not fused_cpu_path_applies(x.double(), enabled=True)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        assert not fused_cpu_path_applies(x, enabled=True)
    seen = []
    torch.jit.trace(lambda t: seen.append((torch.jit.is_tracing(),
                                           fused_cpu_path_applies(t, enabled=True))) or t, x)
    assert (True, False) in seen and (True, True) not in seen


def test_public_switch_reaches_every_block(monkeypatch):
    model = ConvNeXt('atto').eval()
    model.fused = False
    assert not model.fused and not any(b.fused for s in model.stages for b in s)
    monkeypatch.setattr(_fused_cpu.torch.ops.mkldnn, '_linear_pointwise', None)  # must not run
    with torch.no_grad():
        model(torch.randn(1, 3, 64, 64))
    model.fused = True
    assert model.fused


@pytest.mark.parametrize('act_cfg, epilogue', [(dict(type='GELU'), 'gelu'),
                                               (dict(type='GELU', approximate='tanh'), 'gelu'),
                                               (dict(type='ReLU'), 'none')])
def test_fused_inference_applies_the_blocks_own_activation(monkeypatch, act_cfg, epilogue):
    model = ConvNeXt('atto', act_cfg=act_cfg).eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        model.fused = False
        plain = model(x)
        model.fused = True
        calls = record_epilogues(monkeypatch)
        fused = model(x)
    assert calls and set(calls) == {epilogue}
    for a, b in zip(fused, plain):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_backbone_runs_under_bf16_autocast():
    model = ConvNeXt('atto').eval()
    with torch.inference_mode(), torch.autocast('cpu', dtype=torch.bfloat16):
        outs = model(torch.randn(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == [40, 80, 160, 320]
    assert all(torch.isfinite(o.float()).all() for o in outs)


BF16_GEMMS = pytest.mark.skipif(not torch.ops.mkldnn._is_mkldnn_bf16_supported(),
                                reason='oneDNN runs no bf16 GEMMs on this CPU')


@BF16_GEMMS
@pytest.mark.parametrize('v2', [False, True], ids=['v1', 'v2'])
def test_bf16_inference_path_is_as_accurate_as_autocasts_plain_path(monkeypatch, v2):
    # bf16 keeps 8 significant bits: each rounding errs by up to 2^-9 of the value, and
    # autocast rounds every conv's and GEMM's inputs and outputs, so the stage outputs of an
    # atto backbone land ~0.5-1% of their range away from fp32 (measured: plain 0.4-0.9%,
    # fused 0.4-0.9%). The fused path rounds at the same places (its GELU and layer scale are
    # applied before the rounding instead of after), so it must be as close to fp32 as the
    # plain path: within 1.5x its error plus one bf16 step of the range, and within 2^-5.
    model = ConvNeXt('atto', use_grn=v2, layer_scale_init_value=0.0 if v2 else 1e-6).eval()
    model.load_state_dict(reference_weights('atto', v2))
    x = torch.randn(2, 3, 64, 96)
    with torch.inference_mode():
        reference = model(x)
        with torch.autocast('cpu', dtype=torch.bfloat16):
            model.fused = False
            plain = model(x)
            model.fused = True
            calls = record_epilogues(monkeypatch)
            fused = model(x)
    assert calls and 'gelu' in calls  # the bf16 path ran oneDNN's fused GEMMs
    for want, autocast_out, out in zip(reference, plain, fused):
        assert out.dtype == autocast_out.dtype and out.shape == want.shape
        scale = want.abs().max()
        error = (out.float() - want).abs().max()
        autocast_error = (autocast_out.float() - want).abs().max()
        assert error <= 1.5 * autocast_error + scale * 2**-8
        assert error <= scale * 2**-5


@BF16_GEMMS
def test_bf16_gate_needs_bf16_autocast_without_autograd():
    x = torch.randn(1, 4, 8, 8)
    assert not bf16_fused_inference_applies(x, enabled=True)  # no autocast
    with torch.autocast('cpu', dtype=torch.bfloat16):
        assert not bf16_fused_inference_applies(x, enabled=True)  # autograd on
        with torch.no_grad():
            assert bf16_fused_inference_applies(x, enabled=True)
            assert bf16_fused_inference_applies(x.bfloat16(), enabled=True)
            assert not bf16_fused_inference_applies(x, enabled=False)
            assert not bf16_fused_inference_applies(x.double(), enabled=True)
    with torch.autocast('cpu', dtype=torch.float16), torch.no_grad():
        assert not bf16_fused_inference_applies(x, enabled=True)


def test_training_step_under_bf16_autocast_takes_the_plain_path():
    model = ConvNeXt('atto', drop_path_rate=0.2).train()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        loss = sum(o.float().square().mean() for o in model(torch.randn(2, 3, 64, 64)))
    loss.backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


@pytest.mark.parametrize('shape', [(2, 6, 7, 7), (2, 3, 28, 28), (1, 4, 30, 45), (1, 2, 57, 9)],
                         ids=['7x7', '28x28', 'ragged-tiles', 'onednn-kernel'])
def test_depthwise_conv_gradients(shape):
    x = torch.randn(shape).contiguous(memory_format=torch.channels_last).requires_grad_()
    weight = torch.randn(shape[1], 1, 7, 7, requires_grad=True)
    bias = torch.randn(shape[1], requires_grad=True)
    grad_out = torch.randn(shape)
    expected = torch.autograd.grad(F.conv2d(x, weight, bias, padding=3, groups=shape[1]),
                                   (x, weight, bias), grad_out)
    actual = torch.autograd.grad(depthwise_conv2d(x, weight, bias), (x, weight, bias), grad_out)
    for name, a, e in zip(['input', 'weight', 'bias'], actual, expected):
        torch.testing.assert_close(a, e, atol=1e-4, rtol=1e-4, msg=lambda m: f'{name}: {m}')


@pytest.mark.parametrize('with_scale', [True, False])
def test_linear_scale_residual_gradients(with_scale):
    h = torch.randn(3, 5, 16, requires_grad=True)
    weight = torch.randn(4, 16, requires_grad=True)
    bias = torch.randn(4, requires_grad=True)
    scale = torch.rand(4, requires_grad=True) if with_scale else None
    residual = torch.randn(3, 5, 4, requires_grad=True)
    inputs = [t for t in (h, weight, bias, scale, residual) if t is not None]
    branch = F.linear(h, weight, bias)
    expected_out = residual + (branch * scale if with_scale else branch)
    grad_out = torch.randn_like(expected_out)
    expected = torch.autograd.grad(expected_out, inputs, grad_out)
    out = linear_scale_residual(h, weight, bias, scale, residual)
    torch.testing.assert_close(out, expected_out, atol=1e-5, rtol=1e-5)
    for a, e in zip(torch.autograd.grad(out, inputs, grad_out), expected):
        torch.testing.assert_close(a, e, atol=1e-4, rtol=1e-4)


def test_linear_and_linear_gelu_match_torch():
    x = torch.randn(2, 3, 8, requires_grad=True)
    weight = torch.randn(12, 8, requires_grad=True)
    bias = torch.randn(12, requires_grad=True)
    expected = F.linear(x, weight, bias)
    torch.testing.assert_close(linear(x, weight, bias), expected)
    torch.testing.assert_close(linear_gelu(x.detach(), weight.detach(), bias.detach()),
                               F.gelu(expected.detach()))
    grad_out = torch.randn_like(expected)
    for a, e in zip(torch.autograd.grad(linear(x, weight, bias), (x, weight, bias), grad_out),
                    torch.autograd.grad(expected, (x, weight, bias), grad_out)):
        torch.testing.assert_close(a, e, atol=1e-5, rtol=1e-5)


def eval_outputs(model: ConvNeXt, x: torch.Tensor):
    with torch.inference_mode():
        return model(x)


def assert_same_outputs(a, b):
    for x, y in zip(a, b):
        torch.testing.assert_close(x, y, atol=1e-5, rtol=1e-5)


def test_packed_inference_weights_follow_every_kind_of_weight_change():
    state = reference_weights('atto', False)
    model, plain = ConvNeXt('atto').eval(), ConvNeXt('atto', fused=False).eval()
    model.load_state_dict(state)
    plain.load_state_dict(state)
    x = torch.randn(1, 3, 64, 64)
    assert_same_outputs(eval_outputs(model, x), eval_outputs(plain, x))  # packs

    with torch.no_grad():  # an optimizer-style in-place step: version counters move
        for module in (model, plain):
            module.stages[0][0].pwconv1.weight.mul_(1.5)
            module.stages[0][0].gamma.add_(0.25)
    assert_same_outputs(eval_outputs(model, x), eval_outputs(plain, x))

    state = reference_weights('atto', False, seed=7)  # load_state_dict: copy_ moves them too
    model.load_state_dict(state)
    plain.load_state_dict(state)
    assert_same_outputs(eval_outputs(model, x), eval_outputs(plain, x))

    for module in (model, plain):  # .data writes move no counter; eval() drops the cache
        module.stages[1][1].pwconv2.weight.data.mul_(-1.0)
        module.eval()
    assert_same_outputs(eval_outputs(model, x), eval_outputs(plain, x))


def test_model_with_packed_weights_deep_copies_and_pickles():
    import copy
    import pickle
    model = ConvNeXt('atto').eval()
    x = torch.randn(1, 3, 32, 32)
    expected = eval_outputs(model, x)  # the cache now holds opaque oneDNN tensors
    assert_same_outputs(eval_outputs(copy.deepcopy(model), x), expected)
    assert_same_outputs(eval_outputs(pickle.loads(pickle.dumps(model)), x), expected)


@pytest.mark.parametrize('layer_scale', [0.0, 0.5], ids=['v2', 'v2-with-layer-scale'])
def test_fused_grn_folded_into_the_second_linear_matches_plain(monkeypatch, layer_scale):
    """Inference folds GRN into a per-sample channel scale and the second linear's bias, and
    reduces its norms in slices (forced small here, so there are many)."""
    monkeypatch.setattr(convnext_module, 'GRN_SLICE_BYTES', 256)
    block = randomised_block(16, v2=True).eval()
    if layer_scale:
        block.gamma = torch.nn.Parameter(torch.rand(16) + layer_scale)
    x = torch.randn(3, 16, 13, 11).contiguous(memory_format=torch.channels_last)
    plain, fused = infer_plain_and_fused(block, x)
    torch.testing.assert_close(fused, plain, atol=1e-5, rtol=1e-5)
