"""The matrix form of adaptive average pooling has PyTorch's windows and values at any size,
and exports to ONNX with the size left free."""
import onnxruntime
import pytest
import torch
from torch import nn

from convnext_dense.deploy.adaptive_pool import (MatmulAdaptiveAvgPool2d,
                                                 replace_adaptive_pooling)


@pytest.mark.parametrize('bins', [1, 2, 3, 6, (2, 5), (None, 3), (4, None)])
@pytest.mark.parametrize('size', [(6, 6), (7, 11), (13, 5), (1, 4)])
def test_matches_adaptive_avg_pool(bins, size):
    x = torch.randn(2, 3, *size)
    torch.testing.assert_close(MatmulAdaptiveAvgPool2d(bins)(x), nn.AdaptiveAvgPool2d(bins)(x),
                               atol=1e-6, rtol=1e-5)


def test_exports_for_any_size(tmp_path):
    path = str(tmp_path / 'pool.onnx')
    torch.onnx.export(MatmulAdaptiveAvgPool2d(6), (torch.randn(1, 4, 12, 12), ), path,
                      dynamo=False, opset_version=17, input_names=['x'],
                      dynamic_axes={'x': {2: 'h', 3: 'w'}})
    session = onnxruntime.InferenceSession(path, providers=['CPUExecutionProvider'])
    for size in ((12, 12), (17, 9)):  # the traced size, and one 6 divides neither way
        x = torch.randn(1, 4, *size)
        found = torch.from_numpy(session.run(None, {'x': x.numpy()})[0])
        torch.testing.assert_close(found, nn.AdaptiveAvgPool2d(6)(x), atol=1e-5, rtol=1e-5)


def test_replaces_every_adaptive_pool_in_place():
    model = nn.Sequential(nn.AdaptiveAvgPool2d(1),
                          nn.Sequential(nn.AdaptiveAvgPool2d(3), nn.Identity()))
    assert replace_adaptive_pooling(model) == 2
    assert isinstance(model[0], MatmulAdaptiveAvgPool2d) and model[1][0].output_size == (3, 3)
    assert not any(isinstance(m, nn.AdaptiveAvgPool2d) for m in model.modules())
