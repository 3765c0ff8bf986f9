"""Our configs and checkpoints from the entry points mmdet / mmseg / mmengine users already
have, each in a fresh interpreter whose first import is theirs (not ours): mmdet's and mmseg's
inference APIs and inferencers, their own tools/train.py, and mmengine's stock Runner, which
must run the same hooks and training pipeline as our tools/train.py and resume exactly."""
import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# End-to-end runs of the commands: the slow tier (make test-all, CI).
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
DET = str(REPO / 'configs/demo/mask-rcnn_convnext-atto_toy.py')
SEG = str(REPO / 'configs/demo/upernet_convnext-atto_toy.py')


def python(code: str, cwd: Path) -> str:
    result = subprocess.run([sys.executable, '-c', textwrap.dedent(code)], cwd=cwd,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return result.stdout


@pytest.fixture(scope='module')
def root(toy_run_dir) -> Path:
    return toy_run_dir('their_entry_points')


@pytest.fixture
def det_checkpoint(demo_runs) -> str:
    """The session's briefly trained detector (tests/conftest.py), trained by our tool."""
    return str(demo_runs['det'] / 'iter_2.pth')


@pytest.fixture
def seg_checkpoint(demo_runs) -> str:
    return str(demo_runs['seg'] / 'iter_2.pth')


def test_mmdet_apis_on_our_config_and_checkpoint(root, det_checkpoint):
    out = python(f"""
        from mmdet.apis import DetInferencer, inference_detector, init_detector
        image = 'data/toy_coco/val/000000.png'
        model = init_detector({DET!r}, {det_checkpoint!r}, device='cpu')
        result = inference_detector(model, image)
        print('backbone', type(model.backbone).__module__)
        print('instances', len(result.pred_instances), tuple(result.pred_instances.bboxes.shape))
        inferencer = DetInferencer(model={DET!r}, weights={det_checkpoint!r}, device='cpu')
        predictions = inferencer(image, return_vis=False)['predictions']
        print('inferencer', len(predictions), sorted(predictions[0]))
    """, root)
    assert 'backbone convnext_dense.models.backbones.convnext' in out
    assert 'instances ' in out and ', 4)' in out
    assert "inferencer 1 ['bboxes', 'labels', 'masks', 'scores']" in out


def test_mmseg_apis_on_our_config_and_checkpoint(root, seg_checkpoint):
    out = python(f"""
        from mmseg.apis import MMSegInferencer, inference_model, init_model
        image = 'data/toy_ade20k/images/validation/toy_validation_000000.png'
        model = init_model({SEG!r}, {seg_checkpoint!r}, device='cpu')
        result = inference_model(model, image)
        print('backbone', type(model.backbone).__module__)
        print('map', tuple(result.pred_sem_seg.data.shape))
        inferencer = MMSegInferencer(model={SEG!r}, weights={seg_checkpoint!r}, device='cpu')
        print('inferencer', inferencer(image)['predictions'].shape)
    """, root)
    assert 'backbone convnext_dense.models.backbones.convnext' in out
    assert 'map (1, 160, 160)' in out
    assert 'inferencer (160, 160)' in out


@pytest.mark.parametrize('framework, config', [('mmdet', DET), ('mmseg', SEG)])
def test_their_own_train_tool_runs_our_config_with_our_hooks(root, framework, config):
    package_dir, = importlib.util.find_spec(framework).submodule_search_locations
    tool = Path(package_dir) / '.mim/tools/train.py'  # shipped in their wheels
    work_dir = root / f'{framework}_tool'
    result = subprocess.run([sys.executable, str(tool), config, '--work-dir', str(work_dir),
                             '--cfg-options', 'train_cfg.max_iters=2',
                             'train_cfg.val_interval=2'], cwd=root, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    log = result.stdout + result.stderr
    for hook in ('WeightsOnlyCheckpointHook', 'RngStateHook', 'NonFiniteLossHook',
                 'PreflightHook'):
        assert hook in log, f'{hook} not among the hooks {framework} ran'
    python(f"import torch; torch.load({str(work_dir / 'iter_2.pth')!r}, weights_only=True)", root)


def test_stock_runner_builds_what_our_tool_builds(root):
    out = python(f"""
        from mmengine.config import Config
        from mmengine.runner import Runner
        cfg = Config.fromfile({DET!r})
        cfg.work_dir = 'stock'
        stock = Runner.from_cfg(cfg)
        from convnext_dense.cli import train
        ours_cfg = train.build_config(train.parse_args([{DET!r}, '--work-dir', 'ours']))
        ours = Runner.from_cfg(ours_cfg)
        names = lambda runner: [type(h).__name__ for h in runner.hooks]
        print('hooks', names(stock) == names(ours), names(stock))
        same = cfg.train_dataloader.dataset.pipeline == ours_cfg.train_dataloader.dataset.pipeline
        print('pipeline', same, cfg.train_dataloader.dataset.pipeline[0]['type'])
    """, root)
    assert 'hooks True' in out and 'WeightsOnlyCheckpointHook' in out
    assert 'pipeline True LoadImageOrSkip' in out


def test_stock_runner_resume_is_exact(root):
    """Four iterations straight, and two + resume + two, both through Runner.from_cfg."""
    out = python(f"""
        import torch
        from mmengine.config import Config
        from mmengine.runner import Runner

        def run(work_dir, max_iters, resume):
            cfg = Config.fromfile({DET!r})
            cfg.work_dir, cfg.resume = work_dir, resume
            cfg.randomness = dict(seed=0, deterministic=True)
            cfg.train_cfg.max_iters, cfg.train_cfg.val_interval = max_iters, 100
            cfg.default_hooks.checkpoint.interval = 2
            cfg.train_dataloader.num_workers = 0
            cfg.train_dataloader.persistent_workers = False
            Runner.from_cfg(cfg).train()

        run('straight', 4, False)
        run('resumed', 2, False)
        run('resumed', 4, True)
        a = torch.load('straight/iter_4.pth', weights_only=True)['state_dict']
        b = torch.load('resumed/iter_4.pth', weights_only=True)['state_dict']
        print('identical', all(torch.equal(a[k], b[k]) for k in a))
    """, root)
    assert 'identical True' in out


def test_import_is_light_and_changes_no_other_library(root):
    out = python("""
        import sys, time
        import mmengine.fileio.backends as backends
        local_before = backends.backends['local']
        from mmengine.logging import HistoryBuffer
        methods = dict(vars(HistoryBuffer))
        start = time.perf_counter()
        import convnext_dense
        print('seconds', round(time.perf_counter() - start, 2))
        heavy = ['matplotlib', 'mmdet.datasets', 'mmseg.datasets', 'mmdet.models',
                 'mmseg.models', 'mmcv.ops', 'torchvision', 'convnext_dense.benchmark',
                 'convnext_dense.datasets.toy_coco']
        print('loaded', [m for m in heavy if m in sys.modules])
        print('local', backends.backends['local'] is local_before)
        print('history', dict(vars(HistoryBuffer)) == methods)
    """, root)
    assert 'loaded []' in out
    assert 'local True' in out and 'history True' in out
