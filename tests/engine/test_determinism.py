"""--deterministic on CUDA: cuBLAS configured for it, UperNet's pyramid pooling refused before
the first iteration, and torch's refusal of any other op turned into one line by our tools.
(CUDA's refusals themselves need a GPU: the module list is torch's documented one.)"""
import os

import pytest
import torch

from convnext_dense.benchmark.full_model import build_model_from_config
from convnext_dense.engine.determinism import (CUBLAS_WORKSPACE_CONFIG, DeterminismError,
                                               check_deterministic_cuda,
                                               nondeterministic_cuda_modules)
from convnext_dense.engine.hooks.preflight import PreflightHook
from convnext_dense.errors import INPUT_ERROR_STATUS, run_tool


@pytest.fixture
def deterministic():
    previous = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    yield
    torch.use_deterministic_algorithms(previous)


def test_upernets_pyramid_pooling_is_named_and_mask_rcnn_passes():
    upernet = build_model_from_config('configs/demo/upernet_convnext-atto_toy.py')
    found = nondeterministic_cuda_modules(upernet)
    assert found and all('AdaptiveAvgPool2d' in name for name in found)
    assert found[0].startswith('decode_head.psp_modules.')
    with pytest.raises(DeterminismError, match=r'^--deterministic on CUDA: decode_head\.psp_'
                       r'modules\.0\.0 \(AdaptiveAvgPool2d\).* no deterministic CUDA backward'
                       r'.*train without --deterministic'):
        check_deterministic_cuda(upernet)
    # Mask R-CNN has none (its RoI extractor picks a deterministic kernel itself).
    check_deterministic_cuda(build_model_from_config('configs/demo/mask-rcnn_convnext-atto_toy.py'))


def test_cublas_is_configured_before_the_run(monkeypatch, deterministic):
    monkeypatch.delenv('CUBLAS_WORKSPACE_CONFIG', raising=False)
    PreflightHook().before_run(runner=None)
    assert os.environ['CUBLAS_WORKSPACE_CONFIG'] == CUBLAS_WORKSPACE_CONFIG
    monkeypatch.setenv('CUBLAS_WORKSPACE_CONFIG', ':16:8')  # the user's own choice stays
    PreflightHook().before_run(runner=None)
    assert os.environ['CUBLAS_WORKSPACE_CONFIG'] == ':16:8'


def test_torchs_refusal_of_an_op_is_one_line(capsys, deterministic):
    def main(argv):
        torch.zeros(3).put_(torch.tensor([0]), torch.tensor([1.0]))  # refused on CPU too

    assert run_tool(main) == INPUT_ERROR_STATUS
    message = capsys.readouterr().err
    assert message.count('\n') == 1
    assert message.startswith('error: --deterministic: put_ has no deterministic '
                              'implementation in torch ')


def test_other_runtime_errors_keep_their_traceback():
    def main(argv):
        raise RuntimeError('a bug of ours')

    with pytest.raises(RuntimeError, match='a bug of ours'):
        run_tool(main)
