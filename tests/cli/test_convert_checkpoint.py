"""tools/convert_checkpoint.py end to end, as a user runs it."""
import subprocess
import sys
from pathlib import Path

import pytest
import timm
import torch

from convnext_dense.models import ConvNeXt

# End-to-end runs of the commands: the slow tier (make test-all, CI).
pytestmark = pytest.mark.slow

TOOL = Path(__file__).resolve().parents[2] / 'tools' / 'convert_checkpoint.py'


def run_tool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(TOOL), *args], capture_output=True, text=True,
                          timeout=300)


def test_converts_timm_checkpoint_to_a_loadable_file(tmp_path):
    source = timm.create_model('convnextv2_atto')
    torch.save(source.state_dict(), tmp_path / 'timm.pth')
    result = run_tool(str(tmp_path / 'timm.pth'), str(tmp_path / 'ours.pth'), '--arch', 'atto',
                      '--use-grn', '--no-layer-scale')
    assert result.returncode == 0, result.stderr
    assert 'timm layout' in result.stdout

    saved = torch.load(tmp_path / 'ours.pth', weights_only=True)
    assert saved['meta']['layout'] == 'timm'
    model = ConvNeXt(arch='atto', use_grn=True, layer_scale_init_value=0.0,
                     init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / 'ours.pth')))
    model.init_weights()
    torch.testing.assert_close(model.stages[1][0].grn.gamma,
                               source.stages[1].blocks[0].mlp.grn.weight)
    assert not list(tmp_path.glob('*.tmp')), 'the temporary file must be renamed away'


def test_mismatch_is_reported_and_nothing_written(tmp_path):
    torch.save(timm.create_model('convnext_atto').state_dict(), tmp_path / 'atto.pth')
    result = run_tool(str(tmp_path / 'atto.pth'), str(tmp_path / 'out.pth'), '--arch', 'femto')
    assert result.returncode == 2
    assert 'atto.pth' in result.stderr and 'shape mismatches' in result.stderr
    assert not (tmp_path / 'out.pth').exists()
