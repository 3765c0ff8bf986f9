"""TF32: one switch for CUDA matmuls and cuDNN convolutions, on in our configs, applied by the
Runner the configs choose, recorded in benchmark reports."""
import pytest
import torch
from torch import nn

from convnext_dense.benchmark.report import environment
from convnext_dense.engine.precision import precision_settings, set_tf32
from convnext_dense.engine.runner import SafeLoadingRunner


@pytest.fixture(autouse=True)
def _restore_tf32():
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


@pytest.mark.parametrize('enabled', [True, False])
def test_one_switch_for_matmuls_and_convolutions(enabled):
    a, b = torch.randn(256, 384), torch.randn(384, 512)
    set_tf32(not enabled)
    other = a @ b
    set_tf32(enabled)
    settings = precision_settings()
    assert settings['tf32_matmul'] is enabled and settings['tf32_cudnn'] is enabled
    assert torch.equal(a @ b, other)  # CPU float32 matmuls are not affected
    set_tf32(None)
    assert precision_settings() == settings


def test_the_runner_applies_env_cfg_tf32(tmp_path):
    set_tf32(False)
    SafeLoadingRunner(model=nn.Linear(2, 2), work_dir=str(tmp_path),
                      env_cfg=dict(tf32=True, dist_cfg=dict(backend='gloo')))
    assert precision_settings()['tf32_matmul'] is True


def test_benchmark_reports_record_tf32_and_cudnn_autotuning():
    set_tf32(True)
    recorded = environment()['precision']
    assert recorded['tf32_matmul'] is True and recorded['tf32_cudnn'] is True
    assert recorded['cudnn_benchmark'] == torch.backends.cudnn.benchmark
