"""The backbone exports to ONNX through both of torch's exporters (TorchScript and
``torch.export`` / dynamo) with standard-domain operators only, batch, height and width dynamic,
and ONNX Runtime reproduces its four feature maps; the fused CPU path steps aside by itself
while exporting (its oneDNN kernels are no ONNX operators) and is back right after."""
import onnx
import onnxruntime
import pytest
import torch

from convnext_dense.benchmark.implementations import reference_weights
from convnext_dense.deploy.onnx_export import non_standard_operators
from convnext_dense.models import ConvNeXt
from convnext_dense.models.backbones.convnext import ConvNeXtBlock


def exported(model, path, dynamo: bool):
    example = torch.randn(1, 3, 64, 96)
    if dynamo:
        auto = torch.export.Dim.AUTO
        dynamic = dict(dynamic_shapes=({0: auto, 2: auto, 3: auto}, ))
    else:
        dynamic = dict(dynamic_axes={'image': {0: 'batch', 2: 'height', 3: 'width'}})
    torch.onnx.export(model, (example, ), str(path), dynamo=dynamo, opset_version=18,
                      input_names=['image'], output_names=[f'stage{i}' for i in range(4)],
                      **dynamic)
    return onnx.load(str(path))


@pytest.mark.slow
@pytest.mark.parametrize('dynamo', [False, True], ids=['torchscript', 'dynamo'])
@pytest.mark.parametrize('v2', [False, True], ids=['v1', 'v2'])
def test_backbone_exports_with_standard_operators(tmp_path, monkeypatch, v2, dynamo):
    model = ConvNeXt('atto', use_grn=v2, layer_scale_init_value=0.0 if v2 else 1e-6)
    model.load_state_dict(reference_weights('atto', v2))
    model.eval()
    fused_calls = []
    original = ConvNeXtBlock._forward_fused
    monkeypatch.setattr(ConvNeXtBlock, '_forward_fused',
                        lambda self, x: fused_calls.append(1) or original(self, x))

    graph = exported(model, tmp_path / 'backbone.onnx', dynamo)
    assert not fused_calls
    onnx.checker.check_model(graph, full_check=True)
    assert not non_standard_operators(graph)
    assert 'LayerNormalization' in {node.op_type for node in graph.graph.node}

    session = onnxruntime.InferenceSession(str(tmp_path / 'backbone.onnx'),
                                           providers=['CPUExecutionProvider'])
    for shape in ((1, 3, 64, 96), (2, 3, 96, 64)):  # the traced size, and another
        image = torch.randn(shape)
        with torch.inference_mode():
            expected = model(image)
        outputs = session.run(None, {'image': image.numpy()})
        assert len(outputs) == 4
        for output, feature in zip(outputs, expected):
            torch.testing.assert_close(torch.from_numpy(output), feature, atol=1e-4, rtol=1e-4)
    assert fused_calls  # eager inference is back on the fused path
