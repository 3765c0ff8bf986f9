"""tools/train.py and tools/test.py on the demo configs, as a user runs them: train a few
iterations, checkpoint, resume, evaluate (COCO mAP or mIoU), dump and draw. Several ranks
(tools/dist_train.sh, tools/slurm_train.sh): test_multi_rank_runs.py."""
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import pytest

from processes import free_port

# End-to-end runs of the commands: the slow tier (make test-all, CI).
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
DETECTION_METRICS = (r'coco/bbox_mAP: \d', r'coco/segm_mAP: \d')
# demo config: (metric patterns in the log, key of a prediction in the results pickle)
DEMOS = {
    'configs/demo/mask-rcnn_convnext-atto_toy.py': (DETECTION_METRICS, 'pred_instances'),
    'configs/demo/cascade-mask-rcnn_convnext-atto_toy.py': (DETECTION_METRICS, 'pred_instances'),
    'configs/demo/upernet_convnext-atto_toy.py': ((r'mIoU: \d',), 'pred_sem_seg'),
}
# The cascade's round trip is the Mask R-CNN one with a longer head (53 s here): kept out of the
# default run, where tests/configs and tests/deploy train and predict with it.
ROUND_TRIPS = [pytest.param(config, marks=pytest.mark.slow) if 'cascade' in config else config
               for config in DEMOS]
# The test runs evaluate (and draw) the first 12 of the 60 validation images.
TEST_IMAGES = 12
FIRST_TEST_IMAGES = ['--cfg-options', f'test_dataloader.dataset.indices={TEST_IMAGES}']


@pytest.fixture(scope='module')
def run_dir(toy_run_dir) -> Path:
    """A working directory shared by these runs, with the session's toy data."""
    return toy_run_dir('runs')


def run(args, cwd: Path, timeout: int = 600) -> str:
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(free_port()))
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                            env=env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    return output


def tool(name: str, *args: str) -> list:
    return [sys.executable, str(REPO / 'tools' / name), *args]


def iterations(n: int) -> list:
    return ['--cfg-options', f'train_cfg.max_iters={n}', f'train_cfg.val_interval={n}']


def assert_metrics(config: str, out: str) -> None:
    for pattern in DEMOS[config][0]:
        assert re.search(pattern, out), f'{pattern} not in the log'


@pytest.mark.parametrize('config', ROUND_TRIPS)
def test_train_resume_and_test_a_demo_config(config, run_dir):
    work_dir = run_dir / Path(config).stem
    out = run(tool('train.py', str(REPO / config), '--work-dir', str(work_dir),
                   *iterations(4)), run_dir)
    assert_metrics(config, out)
    assert (work_dir / 'iter_4.pth').is_file()

    out = run(tool('train.py', str(REPO / config), '--work-dir', str(work_dir), '--resume',
                   *iterations(6)), run_dir)
    assert 'resumed epoch: 0, iter: 4' in out
    assert 'Saving checkpoint at 6 iterations' in out and (work_dir / 'iter_6.pth').is_file()

    results, show_dir = work_dir / 'results.pkl', work_dir / 'vis'
    out = run(tool('test.py', str(REPO / config), str(work_dir / 'iter_6.pth'), '--work-dir',
                   str(work_dir / 'test'), '--out', str(results), '--show-dir', str(show_dir),
                   *FIRST_TEST_IMAGES), run_dir)
    assert_metrics(config, out)
    assert f'] {TEST_IMAGES}/{TEST_IMAGES},' in out  # the progress bar over the test images
    with open(results, 'rb') as f:
        predictions = pickle.load(f)
    assert len(predictions) == TEST_IMAGES and DEMOS[config][1] in predictions[0]
    assert len(list(show_dir.rglob('*.png'))) == TEST_IMAGES


def test_multi_scale_flip_test_of_the_segmentation_demo(run_dir):
    config = 'configs/demo/upernet_convnext-atto_toy.py'
    checkpoint = run_dir / Path(config).stem / 'iter_6.pth'
    if not checkpoint.is_file():  # run alone: train the checkpoint first
        run(tool('train.py', str(REPO / config), '--work-dir', str(checkpoint.parent),
                 *iterations(6)), run_dir)
    out = run(tool('test.py', str(REPO / config), str(checkpoint), '--tta', '--work-dir',
                   str(run_dir / 'tta'), *FIRST_TEST_IMAGES), run_dir)
    assert re.search(r'mIoU: \d', out) and 'SegTTAModel' in out


def test_resume_from_a_missing_checkpoint_names_it(run_dir):
    result = subprocess.run(tool('train.py', str(REPO / next(iter(DEMOS))), '--resume', 'nope.pth'),
                            cwd=run_dir, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and 'nope.pth does not exist' in result.stderr
