"""Shared test set-up: the package is imported first, as every entry point does, so mmcv's ops
find the kernel backend before mmdet / mmseg import them."""
import convnext_dense  # noqa: F401
import pytest
import torch
from mmengine.registry import DefaultScope


@pytest.fixture(autouse=True)
def _isolated_default_scope():
    """mmengine keeps the last default scope globally (a Runner or init_default_scope sets it);
    restore it so one test's scope does not decide where another's registry builds."""
    saved = dict(DefaultScope._instance_dict)
    torch.manual_seed(0)
    yield
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(saved)
