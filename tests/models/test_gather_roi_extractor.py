"""GatherRoIExtractor against mmdet's SingleRoIExtractor (mmcv's RoIAlign on our op backend):
same features and RoIs in, same pooled features and feature gradients out."""
import pytest
import torch
from mmdet.models.roi_heads.roi_extractors import SingleRoIExtractor
from mmengine.registry import DefaultScope

from convnext_dense.models.gather_roi_extractor import GatherRoIExtractor
from convnext_dense.ops.backend import MissingKernelError

STRIDES = [4, 8, 16, 32]


def pyramid(batch=2, channels=8, side=64):
    return tuple(torch.randn(batch, channels, side // s, side // s, requires_grad=True)
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
    out.backward(grad)
    return out.detach(), [f.grad.clone() for f in feats]


@pytest.mark.parametrize('output_size,sampling_ratio,aligned', [(7, 0, True), (14, 0, True),
                                                                (7, 2, True), (7, 0, False)])
def test_equals_single_roi_extractor(output_size, sampling_ratio, aligned):
    cfg = dict(roi_layer=dict(type='RoIAlign', output_size=output_size,
                              sampling_ratio=sampling_ratio, aligned=aligned),
               out_channels=8, featmap_strides=STRIDES)
    feats, rois = pyramid(), awkward_rois()
    grad = torch.randn(rois.shape[0], 8, output_size, output_size)
    expected, expected_grads = pooled_and_gradients(SingleRoIExtractor(**cfg), feats, rois, grad)
    actual, actual_grads = pooled_and_gradients(GatherRoIExtractor(**cfg), feats, rois, grad)
    assert expected.abs().sum() > 0
    torch.testing.assert_close(actual, expected, atol=1e-5, rtol=1e-5)
    for got, want in zip(actual_grads, expected_grads):
        torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)


def test_roi_scale_factor_and_single_level():
    cfg = dict(roi_layer=dict(type='RoIAlign', output_size=7, sampling_ratio=0),
               out_channels=8, featmap_strides=STRIDES)
    feats, rois = pyramid(), awkward_rois(100)
    torch.testing.assert_close(GatherRoIExtractor(**cfg)(feats, rois, 1.5),
                               SingleRoIExtractor(**cfg)(feats, rois, 1.5))
    single = dict(cfg, featmap_strides=[8])
    torch.testing.assert_close(GatherRoIExtractor(**single)(feats[1:2], rois),
                               SingleRoIExtractor(**single)(feats[1:2], rois))


def test_no_rois_keeps_every_level_in_the_graph():
    extractor = GatherRoIExtractor(roi_layer=dict(type='RoIAlign', output_size=7),
                                   out_channels=8, featmap_strides=STRIDES)
    feats = pyramid()
    out = extractor(feats, torch.zeros(0, 5))
    assert out.shape == (0, 8, 7, 7)
    out.sum().backward()
    assert all(f.grad is not None and not f.grad.any() for f in feats)


def test_max_pooling_runs_mmdets_loop():
    # Our op backend serves average pooling only, so mmcv's kernel call is what tells.
    extractor = GatherRoIExtractor(roi_layer=dict(type='RoIAlign', output_size=7,
                                                  pool_mode='max'),
                                   out_channels=8, featmap_strides=STRIDES)
    with pytest.raises(MissingKernelError, match="pool_mode='max'"):
        extractor(pyramid(), awkward_rois(50))


def test_configs_build_it_by_name_in_mmdets_scope():
    from mmdet.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmdet'):
        extractor = MODELS.build(dict(type='GatherRoIExtractor',
                                      roi_layer=dict(type='RoIAlign', output_size=7),
                                      out_channels=8, featmap_strides=STRIDES))
    assert isinstance(extractor, GatherRoIExtractor)
