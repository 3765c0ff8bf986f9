"""Shared test set-up: the package is imported first, as every entry point does, so mmcv's ops
find the kernel backend before mmdet / mmseg import them."""
import contextlib
import io
from pathlib import Path

import convnext_dense  # noqa: F401
import pytest
import torch
from mmengine.registry import DefaultScope

from convnext_dense.datasets import ensure_toy_ade20k, ensure_toy_coco

REPO = Path(__file__).resolve().parents[1]
DEMO_CONFIGS = {'det': REPO / 'configs/demo/mask-rcnn_convnext-atto_toy.py',
                'seg': REPO / 'configs/demo/upernet_convnext-atto_toy.py'}
DEMO_ITERS = 2


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


@pytest.fixture(scope='session')
def toy_data(tmp_path_factory) -> Path:
    """Both toy datasets, generated once per test session: a ``data`` folder to link (or copy,
    to change it) into the directory a run works in (the demo configs read ``data/toy_*``)."""
    root = tmp_path_factory.mktemp('toy')
    ensure_toy_coco(str(root / 'data/toy_coco'))
    ensure_toy_ade20k(str(root / 'data/toy_ade20k'))
    return root / 'data'


@pytest.fixture(scope='session')
def toy_run_dir(toy_data, tmp_path_factory):
    """``toy_run_dir(name)``: a new folder whose ``data`` links to the session's toy data, for
    runs of the demo configs."""
    def make(name: str) -> Path:
        root = tmp_path_factory.mktemp(name)
        (root / 'data').symlink_to(toy_data)
        return root
    return make


@pytest.fixture(scope='session')
def demo_runs(toy_run_dir):
    """The session's briefly trained demos: ``{'det': work_dir, 'seg': work_dir}``, each
    trained ``DEMO_ITERS`` iterations by ``convnext-dense train`` in this process (validated at
    the end; the detector's with TensorBoard), its checkpoint ``work_dir / 'iter_2.pth'``. The
    work dirs' parent holds the toy data. Tests read them and write elsewhere."""
    from convnext_dense import cli
    root = toy_run_dir('demo_runs')
    runs = {}
    for name, extra in (('det', ['--tensorboard']), ('seg', [])):
        runs[name] = root / name
        console = io.StringIO()
        with contextlib.chdir(root), contextlib.redirect_stdout(console), \
                contextlib.redirect_stderr(console):
            status = cli.run('train', [str(DEMO_CONFIGS[name]), '--work-dir', str(runs[name]),
                                       *extra, '--cfg-options',
                                       f'train_cfg.max_iters={DEMO_ITERS}',
                                       f'train_cfg.val_interval={DEMO_ITERS}',
                                       'default_hooks.logger.interval=1'])
        assert status == 0, console.getvalue()[-4000:]
    _reset_default_scopes()
    _reset_visualizers()
    return runs
