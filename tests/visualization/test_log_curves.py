"""Curves from mmengine scalar logs: runs of a resumed job are joined, several runs overlaid,
keys found by their last part, x in iterations or epochs."""
import json

import cv2
import pytest

from convnext_dense.visualization import load_scalars, plot_log_curves
from convnext_dense.visualization.log_curves import LogError


def write_run(work_dir, timestamp: str, records) -> None:
    log = work_dir / timestamp / 'vis_data' / 'scalars.json'
    log.parent.mkdir(parents=True)
    log.write_text(''.join(json.dumps(r) + '\n' for r in records))


def test_resumed_runs_are_joined_and_plotted(tmp_path):
    write_run(tmp_path, '20260101_000000', [
        dict(loss=2.0, iter=10, step=10), dict(loss=1.5, iter=20, step=20),
        {'coco/bbox_mAP': 0.1, 'step': 20}])
    write_run(tmp_path, '20260101_010000', [  # resumed at 20: step 20 logged again
        {'coco/bbox_mAP': 0.12, 'step': 20}, dict(loss=1.0, iter=30, step=30),
        {'coco/bbox_mAP': 0.3, 'coco/bbox_mAP_50': 0.5, 'step': 30}])
    train, val = load_scalars(str(tmp_path))
    assert [r['step'] for r in train] == [10, 20, 30] and len(val) == 3
    out = tmp_path / 'curves.png'
    series = plot_log_curves(str(tmp_path), str(out))
    run = tmp_path.name
    assert list(series) == ['loss', 'coco/bbox_mAP']  # defaults: loss and the mAPs
    assert series['coco/bbox_mAP'][run] == ([20, 30], [0.12, 0.3])  # latest step 20 wins
    assert series['loss'][run] == ([10, 20, 30], [2.0, 1.5, 1.0])
    picture = cv2.imread(str(out))
    assert picture is not None and picture.shape == (400, 1000, 3)


def epoch_run(work_dir, name: str, scale: float) -> None:
    # Epoch-based: train records carry epoch, metrics are logged at step = epoch.
    write_run(work_dir / name, 'r', [
        dict(loss=2 * scale, epoch=1, iter=5, step=5), dict(loss=scale, epoch=1, iter=10, step=10),
        {'coco/bbox_mAP': 0.2 * scale, 'step': 1},
        dict(loss=scale / 2, epoch=2, iter=5, step=15), dict(loss=scale / 4, epoch=2, iter=10, step=20),
        {'coco/bbox_mAP': 0.4 * scale, 'step': 2}])


@pytest.mark.parametrize('x_axis, expected_x', [('epoch', [1, 2]), ('iter', [10, 20])])
def test_several_runs_overlaid_by_epoch_or_iteration(tmp_path, x_axis, expected_x):
    epoch_run(tmp_path, 'a', 1.0)
    epoch_run(tmp_path, 'b', 0.5)
    out = tmp_path / 'both.png'
    series = plot_log_curves([str(tmp_path / 'a'), str(tmp_path / 'b')], str(out),
                             keys=['bbox_mAP', 'loss'], x_axis=x_axis)
    assert series['bbox_mAP']['a'] == (expected_x, [0.2, 0.4])
    assert series['bbox_mAP']['b'] == (expected_x, [0.1, 0.2])
    assert cv2.imread(str(out)).shape == (400, 1000, 3)


def test_epoch_axis_of_an_iteration_run_and_unknown_keys_are_named(tmp_path):
    write_run(tmp_path, 'r', [dict(loss=1.0, iter=1, step=1), {'mIoU': 50.0, 'step': 1}])
    with pytest.raises(ValueError, match='iteration-based run'):
        plot_log_curves(str(tmp_path), str(tmp_path / 'x.png'), ['loss'], x_axis='epoch')
    with pytest.raises(LogError, match="'bbox_mAP' is not logged.*'mIoU'"):
        plot_log_curves(str(tmp_path), str(tmp_path / 'x.png'), ['bbox_mAP'])


def test_malformed_line_names_file_and_line(tmp_path):
    write_run(tmp_path, 'run', [dict(loss=1.0, step=1)])
    log = tmp_path / 'run' / 'vis_data' / 'scalars.json'
    log.write_text(log.read_text() + '{broken\n')
    with pytest.raises(ValueError, match=rf'{log}:2: not a JSON record'):
        load_scalars(str(tmp_path))


def test_a_last_line_cut_short_is_left_out_with_a_warning(tmp_path):
    write_run(tmp_path, 'run', [dict(loss=1.0, step=1), dict(loss=0.5, step=2)])
    log = tmp_path / 'run' / 'vis_data' / 'scalars.json'
    log.write_text(log.read_text()[:-9])  # killed while writing the last record
    with pytest.warns(UserWarning, match=rf'{log}:2: last line is cut short'):
        train, _ = load_scalars(str(tmp_path))
    assert [r['step'] for r in train] == [1]


@pytest.mark.parametrize('content, message', [
    (b'\x89PNG\r\n\x1a\n\x00\xff\xfe', 'not a text log'),
    (b'', 'no logged scalars'),
    (b'[1, 2]\n', 'not a JSON record \\(a list\\)'),
])
def test_binary_empty_and_non_record_logs_are_named(tmp_path, content, message):
    log = tmp_path / 'run' / 'vis_data' / 'scalars.json'
    log.parent.mkdir(parents=True)
    log.write_bytes(content)
    with pytest.raises(LogError, match=message) as error:
        load_scalars(str(tmp_path))
    assert str(tmp_path) in str(error.value)


def test_missing_logs_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='No vis_data/scalars.json'):
        load_scalars(str(tmp_path))
