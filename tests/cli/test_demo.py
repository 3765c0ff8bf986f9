"""`convnext-dense demo` at reduced length, as `make demo` runs it: 4 validations per run, and pictures
with ground truth beside prediction at the promised sizes, a title and a legend."""
import contextlib
import io
from pathlib import Path

import cv2
import mmcv
import numpy as np
import pytest

# End-to-end runs of the commands: the slow tier (make test-all, CI).
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
VAL_IMAGES = 12  # of the 60, to keep the test's 8 validations short


@pytest.fixture(scope='module')
def demo_run(tmp_path_factory):
    root = tmp_path_factory.mktemp('demo')
    from convnext_dense.cli import demo
    console = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(console):
        patch.chdir(root)  # the toy data is generated here, as in a fresh clone
        results = demo.main(['--work-dir', str(root / 'work_dirs/demo'), '--det-iters', '4',
                             '--seg-iters', '4', '--cfg-options',
                             'default_hooks.logger.interval=1',
                             f'val_dataloader.dataset.indices={VAL_IMAGES}'])
    demo.console_text = console.getvalue()
    return demo, root, results


def test_the_console_shows_progress_and_the_summary_and_the_log_keeps_the_rest(demo_run):
    demo, root, results = demo_run
    text = demo.console_text
    assert 'mmengine - INFO' not in text and 'loading annotations' not in text
    assert text.count('  validated at iteration ') == 8 and text.count('  full log: ') == 2
    assert text.rstrip().endswith('=' * 88)
    logs = sorted((root / 'work_dirs/demo').glob('*/*/console.log'))
    assert len(logs) == 2
    assert 'loading annotations into memory' in logs[0].read_text()
    assert 'mmengine - INFO' in logs[1].read_text()


def test_each_run_validates_four_times_and_keeps_its_checkpoint(demo_run):
    _, _, results = demo_run
    assert [r.demo.task.name for r in results] == ['detection', 'segmentation']
    for result in results:
        assert [record['step'] for record in result.history] == [1, 2, 3, 4]
        for key in result.demo.metrics.values():
            assert all(np.isfinite(record[key]) for record in result.history)
        assert Path(result.checkpoint).is_file() and result.val_images == VAL_IMAGES
    per_class = [k for k in results[1].final if k.startswith('IoU.')]
    assert per_class == ['IoU.background', 'IoU.circle', 'IoU.square', 'IoU.triangle',
                         'IoU.cross']


@pytest.mark.parametrize('task', ['detection', 'segmentation'])
def test_pictures_show_ground_truth_beside_prediction(demo_run, task):
    demo, _, results = demo_run
    result = next(r for r in results if r.demo.task.name == task)
    assert len(result.pictures) == 2
    for path, images, side in zip(result.pictures, (1, demo.GRID_IMAGES),
                                  (demo.HERO_PANEL_SIDE, demo.PANEL_SIDE)):
        picture = cv2.imread(path)[..., ::-1]
        grid = result.grids[path]
        assert np.array_equal(picture, grid.picture)
        assert len(grid.panels) == images
        for row, (truth, prediction) in enumerate(grid.panels):
            assert truth[2:] == prediction[2:] and min(truth[2:]) >= side
            assert truth[1] + truth[3] < prediction[1]  # side by side, truth first
            truth_pixels, predicted_pixels = (
                picture[top:top + h, left:left + w] for top, left, h, w in (truth, prediction))
            # The image under both panels is the same; the drawings on them differ.
            assert not np.array_equal(truth_pixels, predicted_pixels)
            image = mmcv.imread(result.image_paths[row], channel_order='rgb')
            plain = mmcv.imrescale(image, truth[2] // image.shape[0], interpolation='nearest')
            assert (np.abs(truth_pixels.astype(int) - plain).sum(-1) > 30).mean() > 0.01
        assert (picture[:grid.panels[0][0][0]] < 100).any()  # title and column labels written


def test_summary_fits_one_screen_and_names_what_to_try_next(demo_run):
    demo, _, results = demo_run
    text = demo.summary(results, 100.0)
    assert len(text.splitlines()) <= 40
    for result in results:
        assert all(path in text for path in (result.checkpoint, *result.pictures))
    assert ' infer mask-rcnn_convnext-atto_toy ' in text and 'bbox mAP' in text and 'mIoU' in text
