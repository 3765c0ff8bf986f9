"""Shared test set-up: the package is imported first, as every entry point does, so mmcv's ops
find the kernel backend before mmdet / mmseg import them."""
import convnext_dense  # noqa: F401
import pytest
import torch
from mmengine.registry import DefaultScope


def _visualizer_classes():
    from mmengine.visualization import Visualizer
    classes, pending = [], [Visualizer]
    while pending:
        cls = pending.pop()
        classes.append(cls)
        pending.extend(cls.__subclasses__())
    return classes


_VISUALIZERS_AT_START = {cls: dict(cls._instance_dict) for cls in _visualizer_classes()}


def _reset_visualizers() -> None:
    for cls in _visualizer_classes():
        cls._instance_dict.clear()
        cls._instance_dict.update(_VISUALIZERS_AT_START.get(cls, {}))


@pytest.fixture(autouse=True)
def _isolated_visualizers():
    """mmengine keeps one visualiser per name per process, and the framework configs name
    theirs 'visualizer': a Runner built in one test (or in a module-scoped fixture, such as
    the demo's) would make a later one log into the first one's work dir. Each test starts
    and ends with the visualisers the session started with."""
    _reset_visualizers()
    yield
    _reset_visualizers()


_SCOPES_AT_START = dict(DefaultScope._instance_dict)


def _reset_default_scopes() -> None:
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(_SCOPES_AT_START)


@pytest.fixture(autouse=True)
def _isolated_default_scope():
    """mmengine keeps the last default scope globally (a Runner or init_default_scope sets it);
    each test starts and ends with the scopes the session started with, so neither another
    test's scope nor one a module-scoped fixture's Runner set decides where its registry
    builds."""
    _reset_default_scopes()
    torch.manual_seed(0)
    yield
    _reset_default_scopes()
