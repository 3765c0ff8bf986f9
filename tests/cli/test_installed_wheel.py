"""`pip install` alone is enough: a wheel built from the project, installed into a fresh venv,
run from a folder that is not the repository, trains, tests, predicts and exports a shipped
config called by name, and ``convnext-dense --help`` lists the commands.

The fresh venv gets the dependencies (torch, mmdet, ...) from the test's own environment
through a path entry, not by installing them (gigabytes, and PyPI may not be reachable); the
package itself, its configs and its start-up hook come only from the wheel, which the test
checks."""
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow
SHORT_RUN = ['--cfg-options', 'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
             'val_dataloader.dataset.indices=4', 'test_dataloader.dataset.indices=4']


def run(args, cwd: Path, env: dict) -> str:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    return output


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    """(console script, environment, a folder away from the repository)."""
    root = tmp_path_factory.mktemp('wheel')
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'PYTHONHOME')}
    run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-q',
         '-w', str(root / 'dist'), str(REPO)], cwd=root, env=env)
    wheel, = (root / 'dist').glob('convnext_dense-*.whl')
    venv = root / 'venv'
    run([sys.executable, '-m', 'venv', '--without-pip', str(venv)], cwd=root, env=env)
    python = venv / 'bin/python'
    run([sys.executable, '-m', 'pip', '--python', str(python), 'install', '--no-deps', '-q',
         str(wheel)], cwd=root, env=env)
    site = Path(run([str(python), '-c', 'import sysconfig; print(sysconfig.get_path("purelib"))'],
                    cwd=root, env=env).strip())
    (site / 'borrowed_dependencies.pth').write_text(sysconfig.get_path('purelib') + '\n')
    elsewhere = root / 'elsewhere'
    elsewhere.mkdir()
    return venv / 'bin/convnext-dense', python, env, elsewhere


def test_the_package_and_its_configs_come_from_the_wheel(installed):
    _, python, env, elsewhere = installed
    # mmcv._ext first, before convnext_dense: the wheel's start-up .pth serves it.
    out = run([str(python), '-c', 'import mmcv._ext as ext, _convnext_dense_ext_finder as hook; '
               'import convnext_dense; from convnext_dense.engine.config import config_file; '
               'print(ext.__spec__.origin); print(hook.__file__); print(convnext_dense.__file__); '
               'print(config_file("upernet_convnext-atto_toy"))'], cwd=elsewhere, env=env)
    origin, *files = out.strip().splitlines()[-4:]
    assert origin == 'convnext_dense', out
    venv = str(python.parent.parent)
    assert all(file.startswith(venv) for file in files), out


def test_help_lists_the_commands(installed):
    console, _, env, elsewhere = installed
    out = run([str(console), '--help'], cwd=elsewhere, env=env)
    for command in ('train', 'test', 'infer', 'export', 'configs', 'benchmark', 'demo'):
        assert f'\n  {command} ' in out


def test_train_test_infer_and_export_a_config_named_by_name(installed):
    console, _, env, elsewhere = installed
    config = 'mask-rcnn_convnext-atto_toy'
    run([str(console), 'train', config, '--work-dir', 'run', *SHORT_RUN], elsewhere, env)
    checkpoint = elsewhere / 'run/iter_2.pth'
    assert checkpoint.is_file() and (elsewhere / 'data/toy_coco').is_dir()
    out = run([str(console), 'test', config, str(checkpoint), '--work-dir', 'test',
               *SHORT_RUN], elsewhere, env)
    assert 'coco/bbox_mAP' in out
    image = sorted((elsewhere / 'data/toy_coco/val').glob('*.png'))[0]
    run([str(console), 'infer', config, str(checkpoint), str(image), '--out-dir', 'infer'],
        elsewhere, env)
    assert (elsewhere / 'infer' / f'{image.stem}.json').is_file()
    out = run([str(console), 'export', config, str(checkpoint), '--out', 'model.onnx'],
              elsewhere, env)
    assert (elsewhere / 'model.onnx').stat().st_size > 0 and 'operators:' in out
