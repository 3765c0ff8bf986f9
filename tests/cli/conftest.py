"""Set-up shared by the tools' tests."""
from pathlib import Path

import pytest

from convnext_dense.datasets import ensure_toy_ade20k, ensure_toy_coco


@pytest.fixture(scope='session')
def toy_data(tmp_path_factory) -> Path:
    """Both toy datasets, generated once per test session: a ``data`` folder to copy or link
    into the directory a tool runs in (its configs read ``data/toy_*``)."""
    root = tmp_path_factory.mktemp('toy')
    ensure_toy_coco(str(root / 'data/toy_coco'))
    ensure_toy_ade20k(str(root / 'data/toy_ade20k'))
    return root / 'data'
