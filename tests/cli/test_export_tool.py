"""tools/export.py as a user runs it, and the exported file where the other tools take a
checkpoint: tools/test.py evaluates it in ONNX Runtime with the config's dataloader and
evaluator (same mIoU as the PyTorch checkpoint), tools/infer.py predicts with it. Bad input ends
in one line."""
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from convnext_dense.apis import Predictor
from convnext_dense.errors import run_tool

# End-to-end runs of the commands: the slow tier (make test-all, CI).
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SEG = REPO / 'configs/demo/upernet_convnext-atto_toy.py'
DET = REPO / 'configs/demo/mask-rcnn_convnext-atto_toy.py'
FOUR_IMAGES = ['--cfg-options', 'test_dataloader.dataset.indices=4']


def tool(cwd: Path, name: str, *args) -> str:
    result = subprocess.run([sys.executable, str(REPO / 'tools' / name), *map(str, args)],
                            cwd=cwd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout + result.stderr


def tool_main(name: str):
    return importlib.import_module(f'convnext_dense.cli.{name}').main


@pytest.fixture(scope='module')
def here(toy_run_dir) -> Path:
    """A run directory with the toy data and a UperNet checkpoint (random weights, BN
    statistics moved off their initial values so the prediction is not uniform)."""
    root = toy_run_dir('export')
    model = Predictor(str(SEG)).model
    generator = torch.Generator().manual_seed(0)
    for name, buffer in model.named_buffers():
        if name.endswith('running_mean'):
            buffer.copy_(torch.randn(buffer.shape, generator=generator))
    torch.save({'state_dict': model.state_dict(),
                'meta': {'dataset_meta': model.dataset_meta}}, root / 'upernet.pth')
    return root


def miou(log: str) -> float:
    return float(re.findall(r'mIoU: ([\d.]+)', log)[-1])


def test_export_evaluate_and_infer(here):
    out = tool(here, 'export.py', SEG, 'upernet.pth', '--out', 'upernet.onnx', '--dynamic',
               '--check')
    assert 'segmentation, any height and width' in out
    assert re.search(r'operators: .*LayerNormalization.*Resize', out)
    assert len(re.findall(r'check, largest .*seg_logits \d\.\d+e-0[5-9], labels 0', out)) == 2

    from_onnx = tool(here, 'test.py', SEG, 'upernet.onnx', *FOUR_IMAGES)
    from_pytorch = tool(here, 'test.py', SEG, 'upernet.pth', *FOUR_IMAGES)
    assert 'OnnxRuntimeSegmentor' not in from_pytorch
    assert abs(miou(from_onnx) - miou(from_pytorch)) <= 0.1

    images = sorted((here / 'data/toy_ade20k/images/validation').glob('*.png'))[:2]
    infer = tool_main('infer')
    assert infer([str(SEG), str(here / 'upernet.onnx'), *map(str, images),
                  '--out-dir', str(here / 'infer')]) == 0
    for image in images:
        prediction = json.loads((here / 'infer' / f'{image.stem}.json').read_text())
        assert prediction['image'] == str(image) and prediction['classes']
        assert (here / 'infer' / f'{image.stem}_labels.png').is_file()


def test_bad_input_is_one_line(here, capsys):
    def error(name, *argv):
        assert run_tool(tool_main(name), [str(a) for a in argv]) == 2
        return capsys.readouterr().err.strip().splitlines()[-1]

    line = error('export', SEG, here / 'upernet.pth', '--out', here / 'slide.onnx', '--dynamic',
                 '--cfg-options', 'model.test_cfg.mode=slide')
    assert 'test_cfg.mode="slide"' in line and 'fixed --shape' in line
    assert not list(here.glob('slide.onnx*'))

    (here / 'garbage.onnx').write_bytes(b'not a model')
    assert 'garbage.onnx: not a readable ONNX model' in error('test', SEG, here / 'garbage.onnx')
    line = error('test', DET, here / 'upernet.onnx')
    assert 'an exported segmentation model, and this config is for detection' in line
