"""RoIAlignExtractor against mmdet's SingleRoIExtractor (mmcv's RoIAlign on our op backend):
same features and RoIs in, same pooled features and feature gradients out, with each kernel;
under reduced-precision autocast against a float64 reference; and which kernel runs where."""
import pytest
import torch
from mmdet.models.roi_heads.roi_extractors import SingleRoIExtractor
from mmengine.registry import DefaultScope
from torch.utils._python_dispatch import TorchDispatchMode

from convnext_dense.models.roi_extractors import RoIAlignExtractor, roi_align_extractor
from convnext_dense.models.roi_extractors.roi_align_extractor import KERNELS, roi_align_kernel
from convnext_dense.ops.backend import MissingKernelError

STRIDES = [4, 8, 16, 32]


@pytest.fixture(params=sorted(KERNELS))
def kernel(request, monkeypatch):
    """Runs the test with each kernel, whatever this machine's device would pick."""
    monkeypatch.setattr(roi_align_extractor, 'roi_align_kernel',
                        lambda device, deterministic=None: request.param)
    return request.param


def pyramid(batch=2, channels=8, side=64, dtype=torch.float32):
    return tuple(torch.randn(batch, channels, side // s, side // s).to(dtype).requires_grad_()
                 for s in STRIDES)


def awkward_rois(count=300, batch=2, side=64):
    """RoIs of every size and aspect on and off the image, with empty and inverted ones."""
    centres = torch.rand(count, 2) * (side + 16) - 8
    sizes = torch.exp(torch.rand(count, 2) * 5.0)  # 1 to ~150 px
    rois = torch.cat([torch.randint(0, batch, (count, 1)).float(), centres - sizes / 2,
                      centres + sizes / 2], 1)
    rois[:4, 3] = rois[:4, 1]  # zero width
    rois[4:8, 4] = rois[4:8, 2] - 2.0  # inverted
    rois[8:12, 1:] = torch.tensor([-30.0, -30.0, -10.0, -10.0])  # outside the image
    return rois


def pooled_and_gradients(extractor, feats, rois, grad):
    for f in feats:
        f.grad = None
    out = extractor(feats, rois)
    out.backward(grad.to(out.dtype))
    return out.detach(), [f.grad.clone() for f in feats]


def config(output_size=7, sampling_ratio=0, aligned=True, channels=8, **roi_layer):
    return dict(roi_layer=dict(type='RoIAlign', output_size=output_size,
                               sampling_ratio=sampling_ratio, aligned=aligned, **roi_layer),
                out_channels=channels, featmap_strides=STRIDES)


@pytest.mark.parametrize('output_size,sampling_ratio,aligned', [(7, 0, True), (14, 0, True),
                                                                (7, 2, True), (7, 0, False)])
def test_equals_single_roi_extractor(kernel, output_size, sampling_ratio, aligned):
    cfg = config(output_size, sampling_ratio, aligned)
    feats, rois = pyramid(), awkward_rois()
    grad = torch.randn(rois.shape[0], 8, output_size, output_size)
    expected, expected_grads = pooled_and_gradients(SingleRoIExtractor(**cfg), feats, rois, grad)
    actual, actual_grads = pooled_and_gradients(RoIAlignExtractor(**cfg), feats, rois, grad)
    assert expected.abs().sum() > 0
    torch.testing.assert_close(actual, expected, atol=1e-5, rtol=1e-5)
    for got, want in zip(actual_grads, expected_grads):
        torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)


def test_roi_scale_factor_and_single_level(kernel):
    cfg = config()
    feats, rois = pyramid(), awkward_rois(100)
    torch.testing.assert_close(RoIAlignExtractor(**cfg)(feats, rois, 1.5),
                               SingleRoIExtractor(**cfg)(feats, rois, 1.5))
    single = dict(cfg, featmap_strides=[8])
    torch.testing.assert_close(RoIAlignExtractor(**single)(feats[1:2], rois),
                               SingleRoIExtractor(**single)(feats[1:2], rois))


def test_no_rois_keeps_every_level_in_the_graph(kernel):
    feats = pyramid()
    out = RoIAlignExtractor(**config())(feats, torch.zeros(0, 5))
    assert out.shape == (0, 8, 7, 7)
    out.sum().backward()
    assert all(f.grad is not None and not f.grad.any() for f in feats)


def relative_error(actual: torch.Tensor, reference: torch.Tensor) -> float:
    return ((actual.double() - reference).norm() / reference.norm()).item()


# RoIs up to ~400 px across a 1024 px image on four levels, as at Mask R-CNN's training size:
# large coordinates are where reduced-precision RoIs go wrong (bfloat16 steps by 4 at x = 1000).
WIDE_IMAGE = 1024


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_autocast_features_and_gradients_match_float64(kernel, dtype):
    """Maps as autocast gives them (bf16 / fp16), RoIs in float32 as mmdet's heads give them:
    within 2e-2 relative (norm of the difference over the norm of the reference) of float64
    extraction of the same maps, for values and feature gradients. The bound is a few times
    the rounding of a reduced-precision output (bf16: 8 bits of mantissa, ~4e-3); the error of
    RoIs rounded to the maps' dtype is far above it (mmdet's extractor, checked last)."""
    cfg = config(channels=16)
    feats = tuple(f.detach() for f in pyramid(channels=16, side=WIDE_IMAGE, dtype=dtype))
    rois = awkward_rois(256, side=WIDE_IMAGE)[12:]  # the degenerate ones are tested above
    reference_feats = tuple(f.double().requires_grad_() for f in feats)
    reference = SingleRoIExtractor(**cfg)(reference_feats, rois.double())
    weights = torch.randn_like(reference)
    reference_grads = torch.autograd.grad((reference * weights).sum(), reference_feats)

    def extract(extractor):
        inputs = tuple(f.clone().requires_grad_() for f in feats)
        with torch.autocast('cpu', dtype=dtype):
            out = extractor(inputs, rois)
        grads = torch.autograd.grad((out * weights.to(out.dtype)).sum(), inputs)
        assert out.dtype == dtype
        return relative_error(out, reference), max(
            relative_error(g, r) for g, r in zip(grads, reference_grads))

    value_error, gradient_error = extract(RoIAlignExtractor(**cfg))
    assert value_error < 2e-2 and gradient_error < 2e-2, (value_error, gradient_error)
    if dtype == torch.bfloat16:
        stock_value_error, _ = extract(SingleRoIExtractor(**cfg))
        assert stock_value_error > 10 * value_error, (stock_value_error, value_error)


def test_the_kernel_by_device():
    assert roi_align_kernel(torch.device('cpu'), deterministic=False) == 'gather'
    assert roi_align_kernel(torch.device('cuda', 1), deterministic=False) == 'torchvision'
    # torchvision's CUDA backward has no deterministic implementation.
    assert roi_align_kernel(torch.device('cuda'), deterministic=True) == 'gather'
    previous = torch.are_deterministic_algorithms_enabled()
    try:
        torch.use_deterministic_algorithms(True)
        assert roi_align_kernel(torch.device('cuda')) == 'gather'
    finally:
        torch.use_deterministic_algorithms(previous)
    assert roi_align_kernel(torch.device('cuda')) == 'torchvision'


class OpCounter(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.calls = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.calls += 1
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize('count', [64, 1024])
def test_the_gpu_kernel_issues_a_few_ops_per_level_whatever_the_rois(count):
    """The kernel that runs on GPUs launches O(levels) operations, not O(RoI shapes): counted
    here as aten calls of a forward pass on CPU (the same calls a GPU would get)."""
    feats = tuple(f.detach() for f in pyramid(channels=16, side=256))
    rois, levels = awkward_rois(count, side=256)[12:], torch.randint(0, 4, (count - 12, ))
    counter = OpCounter()
    with counter:
        KERNELS['torchvision'](feats, rois, levels, [1 / s for s in STRIDES], (7, 7), 0, True)
    # 31 here: sort, split, 4 x (clamp, roi_align), cat, unsort; mmdet's loop: 51 to 59; the
    # gather kernel: 1648 at 64 RoIs, 3937 at 1024.
    assert counter.calls < 40, counter.calls


def test_max_pooling_runs_mmdets_loop():
    # Our op backend serves average pooling only, so mmcv's kernel call is what tells.
    extractor = RoIAlignExtractor(**config(pool_mode='max'))
    with pytest.raises(MissingKernelError, match="pool_mode='max'"):
        extractor(pyramid(), awkward_rois(50))


def test_configs_build_it_by_name_in_mmdets_scope():
    from mmdet.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmdet'):
        extractor = MODELS.build(dict(type='RoIAlignExtractor', **config()))
    assert isinstance(extractor, RoIAlignExtractor)
