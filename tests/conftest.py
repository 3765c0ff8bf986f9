"""Shared test set-up: the package is imported first, as every entry point does, so mmcv's ops
find the kernel backend before mmdet / mmseg import them."""
import convnext_dense  # noqa: F401
import pytest
import torch


@pytest.fixture(autouse=True)
def _seed_and_threads():
    torch.manual_seed(0)
    yield
