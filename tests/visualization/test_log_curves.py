"""Curves from mmengine scalar logs: runs of a resumed job are joined, metrics found."""
import json

import cv2
import pytest

from convnext_dense.visualization import load_scalars, plot_log_curves


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
    assert series == {'coco/bbox_mAP': [0.12, 0.3]}  # the later record of step 20 wins
    picture = cv2.imread(str(out))
    assert picture is not None and picture.shape == (400, 1100, 3)


def test_malformed_line_names_file_and_line(tmp_path):
    write_run(tmp_path, 'run', [dict(loss=1.0, step=1)])
    log = tmp_path / 'run' / 'vis_data' / 'scalars.json'
    log.write_text(log.read_text() + '{broken\n')
    with pytest.raises(ValueError, match=rf'{log}:2: not a JSON record'):
        load_scalars(str(tmp_path))


def test_missing_logs_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='No vis_data/scalars.json'):
        load_scalars(str(tmp_path))
