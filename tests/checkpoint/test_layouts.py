"""Checkpoint conversion and numerical parity with the reference implementations.

Random weights are put into timm's, torchvision's, mmpretrain's and Hugging Face's ConvNeXt /
ConvNeXt V2 (and into official-layout and FCMAE checkpoints written here); converted into ours, the stage features must agree to
1e-5 (fp32), in eval and for gradients, whether the weights arrive in memory or as a file
through ``init_cfg=dict(type='Pretrained')``."""
import re
from dataclasses import dataclass
from typing import Callable, Dict, List

import pytest
import timm
import torch
import torch.nn.functional as F
import torchvision
from mmdet.registry import MODELS
from mmpretrain.models import ConvNeXt as MMPretrainConvNeXt
from torch import Tensor, nn
from torchvision.models.feature_extraction import create_feature_extractor

from convnext_dense.models import ConvNeXt
from convnext_dense.checkpoint.layouts import (CONVERTERS, CheckpointMismatchError,
                                             convert_state_dict, export_state_dict)

ATOL = 1e-5
IMAGE = (2, 3, 64, 64)


def randomise(model: nn.Module) -> nn.Module:
    """Random weights everywhere (layer scale and GRN included), LayerNorm weights near 1."""
    with torch.no_grad():
        for param in model.parameters():
            param.normal_(0, 0.1)
        for module in model.modules():
            if isinstance(module, nn.LayerNorm):
                module.weight.add_(1.0)
    model.eval()  # mmpretrain's ConvNeXt.eval() returns None, so not `return model.eval()`
    return model


def with_out_norms(features: List[Tensor], ours: ConvNeXt) -> List[Tensor]:
    """Applies our per-level output LayerNorms to a reference's raw stage outputs."""
    normed = []
    for i, feature in zip(ours.out_indices, features):
        norm = getattr(ours, f'norm{i}')
        normed.append(F.layer_norm(feature.permute(0, 2, 3, 1), norm.normalized_shape,
                                   norm.weight, norm.bias, norm.eps).permute(0, 3, 1, 2))
    return normed


@dataclass
class Reference:
    """A reference model, how to get its stage features, and our matching constructor args."""
    model: nn.Module
    features: Callable[[Tensor], List[Tensor]]
    ours_kwargs: dict
    has_out_norms: bool = False

    def file_payload(self) -> dict:
        return self.model.state_dict()


def timm_reference(name: str, **ours_kwargs) -> Reference:
    model = randomise(timm.create_model(name, features_only=True))
    return Reference(model, lambda x: list(model(x)), ours_kwargs)


def timm_full_reference(name: str, **ours_kwargs) -> Reference:
    """A classification model (with head), as timm's hub checkpoints are."""
    model = randomise(timm.create_model(name))
    return Reference(model, lambda x: model.forward_intermediates(x, intermediates_only=True),
                     ours_kwargs)


def torchvision_reference() -> Reference:
    model = randomise(torchvision.models.convnext_tiny())
    nodes = {f'features.{i}': str(i) for i in (1, 3, 5, 7)}
    extractor = create_feature_extractor(model, return_nodes=nodes)
    return Reference(model, lambda x: list(extractor(x).values()), dict(arch='tiny'))


def mmpretrain_kwargs(v2: bool) -> dict:
    return dict(arch='atto', use_grn=v2, layer_scale_init_value=0.0 if v2 else 1e-6)


class MMPretrainReference(Reference):
    def file_payload(self) -> dict:
        # As mmpretrain saves a classifier: a Runner checkpoint of backbone. + head. keys.
        state = {f'backbone.{k}': v for k, v in self.model.state_dict().items()}
        state.update({'head.fc.weight': torch.randn(10, 320), 'head.fc.bias': torch.zeros(10)})
        return dict(meta=dict(epoch=300), state_dict=state)


def mmpretrain_reference(v2: bool) -> Reference:
    kwargs = mmpretrain_kwargs(v2)
    model = randomise(MMPretrainConvNeXt(out_indices=(0, 1, 2, 3), gap_before_final_norm=False,
                                         **kwargs))
    return MMPretrainReference(model, lambda x: list(model(x)), kwargs, has_out_norms=True)


class OfficialReference(Reference):
    def file_payload(self) -> dict:
        """The official repository's classification checkpoint: {'model': ...} with its own
        block names, V2 GRN as (1, 1, 1, C), a pooled-feature ``norm`` and a ``head``."""
        renames = {'.depthwise_conv.': '.dwconv.', '.pointwise_conv1.': '.pwconv1.',
                   '.pointwise_conv2.': '.pwconv2.'}
        state = {}
        for key, value in self.model.state_dict().items():
            if key.startswith('norm'):
                continue
            for theirs, official in renames.items():
                key = key.replace(theirs, official)
            state[key] = value.reshape(1, 1, 1, -1) if '.grn.' in key else value
        state.update({'norm.weight': torch.ones(320), 'norm.bias': torch.zeros(320),
                      'head.weight': torch.randn(1000, 320), 'head.bias': torch.zeros(1000)})
        return dict(model=state)


def official_reference(v2: bool) -> Reference:
    """mmpretrain's implementation (same maths) stands in for the official code, which is not
    a package; its output norms are left at identity, as a classification checkpoint has none."""
    reference = mmpretrain_reference(v2)
    with torch.no_grad():
        for i in range(4):
            getattr(reference.model, f'norm{i}').reset_parameters()
    return OfficialReference(reference.model, reference.features, reference.ours_kwargs,
                             has_out_norms=True)


class FcmaeReference(Reference):
    def file_payload(self) -> dict:
        """An FCMAE pre-training checkpoint (sparse encoder + decoder), made from the official
        dense layout by inverting the official remapping rules (facebookresearch/ConvNeXt-V2,
        utils.py ``remap_checkpoint_keys``: kernels (k*k, in, out) / depthwise (k*k, C), the
        ``.ln`` / ``.linear`` wrappers, (1, C) conv biases and GRN parameters)."""
        dense = OfficialReference.file_payload(self)['model']
        sparse = {}
        for key, value in dense.items():
            if key.startswith(('norm.', 'head.')):
                continue  # the FCMAE encoder has no classifier
            conv = re.match(r'^(downsample_layers\.[1-9]\.1|stages\.\d+\.\d+\.dwconv)\.', key)
            if conv and key.endswith('.weight'):
                out_channels, in_channels, k, _ = value.shape
                kernel = value.transpose(3, 2).reshape(out_channels, in_channels, k * k)
                value = kernel[:, 0].permute(1, 0) if '.dwconv.' in key else \
                    kernel.permute(2, 1, 0)
                key = key[:-len('weight')] + 'kernel'
            elif conv:
                value = value.reshape(1, -1)
            elif re.match(r'^(downsample_layers\.[1-9]\.0|stages\.\d+\.\d+\.norm)\.', key):
                key = re.sub(r'\.(weight|bias)$', r'.ln.\1', key)
            elif re.match(r'^stages\.\d+\.\d+\.pwconv\d\.', key):
                key = re.sub(r'\.(weight|bias)$', r'.linear.\1', key)
            elif '.grn.' in key:
                value = value.reshape(1, -1)
            sparse[f'encoder.{key}'] = value
        sparse.update({'mask_token': torch.zeros(1, 320, 1, 1), 'proj.weight': torch.randn(8, 320, 1, 1),
                       'decoder.0.dwconv.weight': torch.randn(8, 1, 7, 7),
                       'pred.weight': torch.randn(48, 8, 1, 1)})
        return dict(model=sparse, epoch=1600)


def fcmae_reference() -> Reference:
    reference = official_reference(v2=True)
    return FcmaeReference(reference.model, reference.features, reference.ours_kwargs,
                          has_out_norms=True)


def huggingface_reference(v2: bool, classifier: bool = False) -> Reference:
    from transformers import (ConvNextConfig, ConvNextForImageClassification, ConvNextModel,
                              ConvNextV2Config, ConvNextV2ForImageClassification,
                              ConvNextV2Model)
    settings = dict(depths=[2, 2, 6, 2], hidden_sizes=[40, 80, 160, 320])
    if v2:
        config, classes = ConvNextV2Config(**settings), (ConvNextV2Model,
                                                          ConvNextV2ForImageClassification)
    else:
        config, classes = ConvNextConfig(layer_scale_init_value=1e-6, **settings), \
            (ConvNextModel, ConvNextForImageClassification)
    model = randomise(classes[classifier](config))
    body = getattr(model, 'convnextv2' if v2 else 'convnext') if classifier else model
    kwargs = dict(arch='atto', use_grn=v2, layer_scale_init_value=0.0 if v2 else 1e-6)
    return Reference(model, lambda x: list(body(x, output_hidden_states=True).hidden_states[1:]),
                     kwargs)


def huggingface_upernet_reference() -> Reference:
    """transformers' UperNet with a ConvNeXt backbone, whose per-stage norms are ours."""
    from transformers import ConvNextConfig, UperNetConfig, UperNetForSemanticSegmentation
    backbone = ConvNextConfig(depths=[2, 2, 6, 2], hidden_sizes=[40, 80, 160, 320],
                              layer_scale_init_value=1e-6,
                              out_features=['stage1', 'stage2', 'stage3', 'stage4'])
    model = randomise(UperNetForSemanticSegmentation(UperNetConfig(
        backbone_config=backbone, hidden_size=32, auxiliary_channels=16, num_labels=5)))
    return Reference(model, lambda x: list(model.backbone(x).feature_maps), dict(arch='atto'),
                     has_out_norms=True)


REFERENCES: Dict[str, Callable[[], Reference]] = {
    'timm-v1-atto': lambda: timm_reference('convnext_atto', arch='atto'),
    'timm-v2-atto': lambda: timm_reference('convnextv2_atto', arch='atto', use_grn=True,
                                           layer_scale_init_value=0.0),
    'timm-v1-tiny': lambda: timm_reference('convnext_tiny', arch='tiny'),
    'torchvision-tiny': torchvision_reference,
    'mmpretrain-v1-atto': lambda: mmpretrain_reference(v2=False),
    'mmpretrain-v2-atto': lambda: mmpretrain_reference(v2=True),
    'huggingface-v1-atto': lambda: huggingface_reference(v2=False),
    'huggingface-v2-atto': lambda: huggingface_reference(v2=True),
}
FILE_REFERENCES: Dict[str, Callable[[], Reference]] = {
    'timm': lambda: timm_full_reference('convnextv2_atto', arch='atto', use_grn=True,
                                        layer_scale_init_value=0.0),
    'torchvision': torchvision_reference,
    'mmpretrain': lambda: mmpretrain_reference(v2=True),
    'official': lambda: official_reference(v2=True),
    'official-v1': lambda: official_reference(v2=False),
    'fcmae': fcmae_reference,
    'huggingface': lambda: huggingface_reference(v2=True, classifier=True),
    'huggingface-upernet': huggingface_upernet_reference,
}


def expected_features(reference: Reference, ours: ConvNeXt, x: Tensor) -> List[Tensor]:
    features = reference.features(x)
    return features if reference.has_out_norms else with_out_norms(features, ours)


def assert_features_match(reference: Reference, ours: ConvNeXt) -> None:
    x = torch.randn(IMAGE)
    with torch.no_grad():
        expected, actual = expected_features(reference, ours, x), ours(x)
    assert len(expected) == len(actual) == 4
    for level, (e, a) in enumerate(zip(expected, actual)):
        torch.testing.assert_close(a, e, atol=ATOL, rtol=0, msg=lambda m: f'level {level}: {m}')


@pytest.mark.parametrize('name', sorted(REFERENCES))
def test_features_match_reference_in_memory(name):
    reference = REFERENCES[name]()
    state, _ = convert_state_dict(reference.model.state_dict())
    ours = ConvNeXt(**reference.ours_kwargs).eval()
    ours.load_state_dict(state, strict=False)
    assert_features_match(reference, ours)


def weighted_sum(features: List[Tensor]) -> Tensor:
    return sum((f * torch.linspace(-1, 1, f.numel()).view_as(f)).mean() for f in features)


@pytest.mark.slow
@pytest.mark.parametrize('name', sorted(REFERENCES))
def test_gradients_match_reference(name):
    reference = REFERENCES[name]()
    state, _ = convert_state_dict(reference.model.state_dict())
    ours = ConvNeXt(**reference.ours_kwargs).eval()
    ours.load_state_dict(state, strict=False)
    x = torch.randn(IMAGE)
    x_ref, x_ours = x.clone().requires_grad_(), x.clone().requires_grad_()
    weighted_sum(expected_features(reference, ours, x_ref)).backward()
    ours.zero_grad()
    weighted_sum(ours(x_ours)).backward()
    torch.testing.assert_close(x_ours.grad, x_ref.grad, atol=ATOL, rtol=1e-4)
    ref_grads = {k: p.grad for k, p in reference.model.named_parameters() if p.grad is not None}
    expected, _ = convert_state_dict(ref_grads)
    compared = 0
    for key, param in ours.named_parameters():
        if key in expected:
            torch.testing.assert_close(param.grad, expected[key], atol=ATOL, rtol=1e-4,
                                       msg=lambda m: f'{key}: {m}')
            compared += 1
    assert compared >= len(list(reference.model.parameters())) - 8


@pytest.mark.slow
@pytest.mark.parametrize('layout', sorted(FILE_REFERENCES))
def test_checkpoint_file_loads_through_init_cfg(layout, tmp_path):
    reference = FILE_REFERENCES[layout]()
    path = tmp_path / f'{layout}.pth'
    torch.save(reference.file_payload(), path)
    ours = MODELS.build(dict(type='ConvNeXt', **reference.ours_kwargs,
                             init_cfg=dict(type='Pretrained', checkpoint=str(path))))
    ours.init_weights()
    assert ours.is_init
    assert_features_match(reference, ours.eval())


def test_detected_layouts(tmp_path):
    expected = {'timm': 'timm', 'torchvision': 'torchvision', 'mmpretrain': 'mmpretrain',
                'official': 'official', 'fcmae': 'fcmae', 'huggingface': 'huggingface',
                'huggingface-upernet': 'huggingface'}
    for name, layout in expected.items():
        _, detected = convert_state_dict(FILE_REFERENCES[name]().file_payload())
        assert detected == layout


def test_prefix_selects_a_submodule_and_module_wrappers_are_stripped():
    reference = mmpretrain_reference(v2=False)
    state = {f'module.model.encoder.{k}': v for k, v in reference.model.state_dict().items()}
    converted, layout = convert_state_dict({'state_dict': state}, prefix='model.encoder')
    assert layout == 'mmpretrain' and 'stages.0.0.dwconv.weight' in converted


def test_wrong_arch_names_file_and_missing_keys(tmp_path):
    path = tmp_path / 'atto.pth'
    torch.save(timm.create_model('convnext_atto').state_dict(), path)
    model = ConvNeXt(arch='nano', init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    with pytest.raises(CheckpointMismatchError) as error:
        model.init_weights()
    message = str(error.value)
    assert str(path) in message
    assert 'missing keys 18' in message  # nano has 8 blocks in stage 2, atto 6: 2 x 9 tensors
    assert "'stages.2.6.gamma'" in message
    assert 'downsample_layers.0.0.weight: checkpoint (40, 3, 4, 4) vs model (80, 3, 4, 4)' in message


def test_unknown_layout_names_file_and_keys(tmp_path):
    path = tmp_path / 'resnet.pth'
    torch.save({'conv1.weight': torch.zeros(1)}, path)
    model = ConvNeXt(arch='atto', init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    with pytest.raises(CheckpointMismatchError, match=rf"{path}.*layout.*'conv1.weight'"):
        model.init_weights()


def test_missing_prefix_is_named():
    with pytest.raises(CheckpointMismatchError, match="prefix 'encoder.'"):
        convert_state_dict({'stem.0.weight': torch.zeros(1)}, prefix='encoder')


@pytest.mark.parametrize('layout, template', [
    ('timm', lambda: timm.create_model('convnext_atto', features_only=True)),
    ('mmpretrain', lambda: MMPretrainConvNeXt(out_indices=(0, 1, 2, 3),
                                              gap_before_final_norm=False,
                                              **mmpretrain_kwargs(False))),
])
def test_export_runs_the_converter_backwards(layout, template):
    ours = randomise(ConvNeXt(arch='atto'))
    state = {k: v for k, v in ours.state_dict().items()
             if layout == 'mmpretrain' or not k.startswith('norm')}
    exported = export_state_dict(state, template().state_dict(), layout)
    back = CONVERTERS[layout](exported)
    assert set(back) == set(state)
    assert all(torch.equal(back[k], state[k]) for k in state)


def test_export_names_a_key_nothing_takes():
    template = timm.create_model('convnext_atto', features_only=True).state_dict()
    state = ConvNeXt(arch='atto').state_dict()  # norm0..3 have no timm counterpart
    with pytest.raises(KeyError, match='norm0.weight'):
        export_state_dict(state, template, 'timm')
