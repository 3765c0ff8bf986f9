"""Predictor on the demo configs: loads a checkpoint, predicts, draws a PNG of the right size."""
import importlib
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from convnext_dense.apis import Predictor
from convnext_dense.datasets import SEG_CLASSES, SHAPE_CLASSES, render_scene

CONFIGS = Path(__file__).resolve().parents[2] / 'configs' / 'demo'
CASES = {
    'mask-rcnn_convnext-atto_toy.py': ('mmdet', SHAPE_CLASSES),
    'upernet_convnext-atto_toy.py': ('mmseg', SEG_CLASSES),
}


def write_checkpoint(config: str, classes, path: Path) -> None:
    """A checkpoint of the untrained demo model, as a Runner would save it."""
    cfg = Config.fromfile(str(CONFIGS / config))
    scope = cfg.default_scope
    with DefaultScope.overwrite_default_scope(scope):
        registry = importlib.import_module(f'{scope}.registry').MODELS
        model = registry.build(cfg.model)
    torch.save({'state_dict': model.state_dict(), 'meta': {'dataset_meta': {'classes': classes}}},
               path)


@pytest.fixture
def image(tmp_path) -> str:
    picture, _ = render_scene(np.random.default_rng(0), 160)
    path = tmp_path / 'scene.png'
    cv2.imwrite(str(path), picture[..., ::-1])
    return str(path)


@pytest.mark.slow
@pytest.mark.parametrize('config', sorted(CASES))
def test_predicts_and_draws(config, image, tmp_path):
    scope, classes = CASES[config]
    checkpoint = tmp_path / 'model.pth'
    write_checkpoint(config, classes, checkpoint)
    predictor = Predictor(str(CONFIGS / config), str(checkpoint))
    assert predictor.task.scope == scope and predictor.model.dataset_meta['classes'] == classes
    sample = predictor.predict(image)
    if scope == 'mmdet':
        boxes = sample.pred_instances.bboxes
        assert boxes.ndim == 2 and boxes.shape[1] == 4
        assert sample.pred_instances.masks.shape[1:] == (160, 160)
    else:
        assert sample.pred_sem_seg.data.shape == (1, 160, 160)
        assert sample.pred_sem_seg.data.max() < len(classes)
    out_file = tmp_path / 'pred.png'
    picture = predictor.draw(image, sample, str(out_file))
    written = cv2.imread(str(out_file))
    assert written is not None and written.shape == picture.shape
    if scope == 'mmdet':
        assert written.shape == (160, 160, 3)
    else:  # the colour map, then a legend of the classes shown beneath it
        assert written.shape[1:] == (160, 3) and written.shape[0] >= 160 + 22
        assert (written[160:] == 255).mean() > 0.5  # a white strip with swatches and names


def test_unsupported_scope_is_named(tmp_path):
    cfg = Config(dict(default_scope='mmpretrain', model=dict(type='ImageClassifier')))
    with pytest.raises(ValueError, match="default_scope 'mmpretrain' is not a task"):
        Predictor(cfg)
