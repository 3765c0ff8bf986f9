"""DINOv3 ConvNeXt weights in both published layouts, against the reference implementation.

The reference is transformers' ``DINOv3ConvNextModel`` (transformers >= 4.56), run in a
subprocess from its own install (``make venv`` puts it in ``.venv/transformers-dinov3``; the
test dependencies pin transformers < 4.50 for mmpretrain 1.2.0). It writes a random model with
``save_pretrained`` (``model.safetensors``, as the Hub serves it), an input and its features.

The DINOv3 repository (facebookresearch/dinov3) is not a package on PyPI and GitHub is out of
reach here, so its layout is written from the same weights by the key mapping transformers
published for its port (``convert_dinov3_convnext_to_hf.py``: ``dwconv`` / ``depthwise_conv``,
``pwconv`` / ``pointwise_conv``, ``norm`` / ``layer_norm``, ``stages.i.j`` /
``stages.i.layers.j``, ``downsample_layers.i.j`` / ``stages.i.downsample_layers.j``), with the
final norm saved twice (``norm``, ``norms.3``), as DINOv3's ``ConvNeXt`` registers it and its
hub loader reads it (``strict=True``).

Features: DINOv3 normalises the last stage at every position with its final norm (its
``get_intermediate_layers(norm=True)``; transformers' ``last_hidden_state`` patch tokens): our
stage-3 output must equal it within 1e-5 (fp32); stages 0-2 are DINOv3's raw maps with our
(initial) output norms on top.
"""
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from mmdet.registry import MODELS

from convnext_dense import cli
from convnext_dense.checkpoint import (CheckpointMismatchError, check_fit, convert_state_dict,
                                       load_checkpoint, to_dinov3_state_dict)
from convnext_dense.models import ConvNeXt

REPO = Path(__file__).resolve().parents[2]
TRANSFORMERS_DINOV3 = REPO / '.venv/transformers-dinov3'
ATOL = 1e-5
# ConvNeXt-atto's shape (DINOv3 publishes T / S / B / L; the layout is the same at every size).
ATTO = dict(depths=[2, 2, 6, 2], hidden_sizes=[40, 80, 160, 320])

REFERENCE_SCRIPT = '''
import sys, torch, transformers
from transformers import DINOv3ConvNextConfig, DINOv3ConvNextModel
out = sys.argv[1]
torch.manual_seed(0)
model = DINOv3ConvNextModel(DINOv3ConvNextConfig(depths={depths}, hidden_sizes={hidden_sizes}))
with torch.no_grad():
    for name, param in model.named_parameters():
        param.normal_(0, 0.1)
        if 'norm' in name and name.endswith('weight'):
            param.add_(1.0)
model.eval().save_pretrained(out + '/hf')
x = torch.randn(2, 3, 64, 64)
with torch.no_grad():
    output = model(x, output_hidden_states=True)
last = output.hidden_states[-1]
normed = output.last_hidden_state[:, 1:].transpose(1, 2).reshape(last.shape)
torch.save(dict(x=x, raw=list(output.hidden_states[1:]), last_normed=normed,
                version=transformers.__version__), out + '/reference.pt')
'''


@pytest.fixture(scope='module')
def reference(tmp_path_factory) -> dict:
    """The reference's files and outputs: ``hf`` (its save_pretrained folder), ``x``, ``raw``
    (the four stage maps), ``last_normed`` (the last one through the final norm)."""
    if not (TRANSFORMERS_DINOV3 / 'transformers').is_dir():
        pytest.fail(f'{TRANSFORMERS_DINOV3} is missing: `make venv` installs the transformers '
                    f'that has DINOv3ConvNextModel there.')
    out = tmp_path_factory.mktemp('dinov3_reference')
    env = dict(os.environ, PYTHONPATH=str(TRANSFORMERS_DINOV3))
    result = subprocess.run([sys.executable, '-c', textwrap.dedent(REFERENCE_SCRIPT.format(**ATTO)),
                             str(out)], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    loaded = torch.load(out / 'reference.pt', weights_only=True)
    assert int(loaded['version'].split('.')[0]) >= 5 or \
        tuple(map(int, loaded['version'].split('.')[:2])) >= (4, 56)
    return dict(loaded, hf=out / 'hf')


def dinov3_repository_layout(hf_state: dict) -> dict:
    """The DINOv3 repository's state dict for the same weights (see the module docstring)."""
    rules = [(r'^stages\.(\d+)\.downsample_layers\.(\d+)\.', r'downsample_layers.\1.\2.'),
             (r'^stages\.(\d+)\.layers\.(\d+)\.', r'stages.\1.\2.'),
             (r'depthwise_conv', 'dwconv'), (r'pointwise_conv', 'pwconv'),
             (r'layer_norm', 'norm')]
    state = {}
    for key, value in hf_state.items():
        for pattern, replacement in rules:
            key = re.sub(pattern, replacement, key)
        state[key] = value
    state['norms.3.weight'], state['norms.3.bias'] = state['norm.weight'], state['norm.bias']
    return state


def assert_matches_reference(ours: ConvNeXt, reference: dict) -> None:
    with torch.no_grad():
        features = ours.eval()(reference['x'])
    for level in range(3):
        norm = getattr(ours, f'norm{level}')
        raw = reference['raw'][level].permute(0, 2, 3, 1)
        expected = F.layer_norm(raw, norm.normalized_shape, norm.weight, norm.bias,
                                norm.eps).permute(0, 3, 1, 2)
        torch.testing.assert_close(features[level], expected, atol=ATOL, rtol=0)
    torch.testing.assert_close(features[3], reference['last_normed'], atol=ATOL, rtol=0)


def test_transformers_layout_is_detected_and_matches(reference):
    checkpoint = load_checkpoint(str(reference['hf'] / 'model.safetensors'))
    state, layout = convert_state_dict(checkpoint)
    assert layout == 'dinov3_hf'
    ours = ConvNeXt(arch='atto')
    left_at_init = check_fit(ours, state, 'model.safetensors', allowed_missing=r'^norm\d\.')
    assert sorted(left_at_init) == [f'norm{i}.{p}' for i in range(3) for p in ('bias', 'weight')]
    ours.load_state_dict(state, strict=False)
    assert_matches_reference(ours, reference)


def test_repository_layout_loads_through_init_cfg_and_matches(reference, tmp_path):
    hf_state = load_checkpoint(str(reference['hf'] / 'model.safetensors'))
    path = tmp_path / 'dinov3_convnext_atto_pretrain_lvd1689m.pth'
    torch.save(dinov3_repository_layout(hf_state), path)
    assert convert_state_dict(torch.load(path, weights_only=True))[1] == 'dinov3'
    ours = MODELS.build(dict(type='ConvNeXt', arch='atto', out_indices=(0, 1, 2, 3),
                             init_cfg=dict(type='Pretrained', checkpoint=str(path))))
    ours.init_weights()
    assert_matches_reference(ours, reference)


def run_convert(*args: str) -> None:
    assert cli.run('convert', list(args)) == 0


def test_convert_takes_both_layouts_to_ours_and_back_to_dinov3s(reference, tmp_path):
    """transformers -> ours -> DINOv3's layout gives exactly the file DINOv3 itself would load,
    and DINOv3's -> ours -> DINOv3's gives it back unchanged."""
    hf_state = load_checkpoint(str(reference['hf'] / 'model.safetensors'))
    original = dinov3_repository_layout(hf_state)
    torch.save(original, tmp_path / 'dinov3.pth')
    run_convert(str(reference['hf'] / 'model.safetensors'), str(tmp_path / 'from_hf.pth'),
                '--arch', 'atto')
    run_convert(str(tmp_path / 'dinov3.pth'), str(tmp_path / 'from_dinov3.pth'), '--arch', 'atto')
    for source in ('from_hf', 'from_dinov3'):
        saved = torch.load(tmp_path / f'{source}.pth', weights_only=True)
        assert saved['meta']['layout'] == ('dinov3_hf' if source == 'from_hf' else 'dinov3')
        run_convert(str(tmp_path / f'{source}.pth'), str(tmp_path / f'{source}_back.pth'),
                    '--to', 'dinov3')
        back = torch.load(tmp_path / f'{source}_back.pth', weights_only=True)
        assert sorted(back) == sorted(original)
        for key, value in original.items():
            torch.testing.assert_close(back[key], value, atol=0, rtol=0, msg=key)


def test_dinov3_layout_needs_the_last_output_norm():
    state = ConvNeXt(arch='atto', out_indices=(0, 1, 2)).state_dict()
    with pytest.raises(CheckpointMismatchError, match='norm3'):
        to_dinov3_state_dict(state)
