"""upscaled samples and the ground-truth | prediction grid layout."""
import numpy as np
import pytest
import torch
from mmdet.structures import DetDataSample
from mmdet.structures.mask import BitmapMasks
from mmengine.structures import InstanceData, PixelData
from mmseg.structures import SegDataSample

from convnext_dense.visualization.comparison import (GAP, LABEL_HEIGHT, TITLE_LINE_HEIGHT,
                                                     comparison_grid, upscale_factor, upscaled)
from convnext_dense.visualization.legend import ROW_HEIGHT


def test_upscaled_instances_match_the_enlarged_image():
    masks = np.zeros((2, 5, 6), np.uint8)
    masks[0, 1:3, 2:5] = 1
    masks[1, 4, 0] = 1
    sample = DetDataSample(
        gt_instances=InstanceData(bboxes=torch.tensor([[2., 1., 5., 3.], [0., 4., 1., 5.]]),
                                  labels=torch.tensor([0, 1]), masks=BitmapMasks(masks, 5, 6)),
        pred_instances=InstanceData(bboxes=torch.tensor([[1., 1., 2., 2.]]),
                                    scores=torch.tensor([0.9]), labels=torch.tensor([1]),
                                    masks=torch.from_numpy(masks[:1]).bool()))
    big = upscaled(sample, 3)
    assert torch.equal(big.gt_instances.bboxes, sample.gt_instances.bboxes * 3)
    assert torch.equal(big.pred_instances.bboxes, torch.tensor([[3., 3., 6., 6.]]))
    expected = masks.repeat(3, axis=1).repeat(3, axis=2).astype(bool)
    assert torch.equal(big.gt_instances.masks, torch.from_numpy(expected))
    assert torch.equal(big.pred_instances.masks, torch.from_numpy(expected[:1]))
    assert torch.equal(sample.gt_instances.bboxes[0], torch.tensor([2., 1., 5., 3.]))  # a copy


def test_upscaled_class_maps_and_empty_predictions():
    labels = torch.arange(12).reshape(1, 3, 4)
    sample = SegDataSample(gt_sem_seg=PixelData(data=labels),
                           pred_sem_seg=PixelData(data=labels.flip(-1)))
    big = upscaled(sample, 2)
    assert big.gt_sem_seg.data.shape == (1, 6, 8)
    assert torch.equal(big.gt_sem_seg.data[0, ::2, ::2], labels[0])
    assert torch.equal(big.pred_sem_seg.data[0, 1::2, 1::2], labels[0].flip(-1))
    empty = DetDataSample(pred_instances=InstanceData(
        bboxes=torch.zeros(0, 4), scores=torch.zeros(0), labels=torch.zeros(0, dtype=torch.long),
        masks=torch.zeros(0, 5, 6, dtype=torch.bool)))
    assert upscaled(empty, 2).pred_instances.masks.shape == (0, 10, 12)


@pytest.mark.parametrize('height, width, side, factor', [(160, 160, 320, 2), (160, 200, 480, 3),
                                                         (500, 400, 320, 1), (100, 90, 320, 4)])
def test_upscale_factor_reaches_the_least_side(height, width, side, factor):
    assert upscale_factor(height, width, side) == factor


def test_grid_places_every_panel_under_title_and_labels_above_the_legend():
    rows = [(np.full((40, 50, 3), 10 * i, np.uint8), np.full((30, 60, 3), 10 * i + 5, np.uint8))
            for i in range(1, 4)]
    grid = comparison_grid(rows, 'Model: metric 0.5\nsecond line', [('a', (255, 0, 0)),
                                                                    ('b', (0, 0, 255))])
    picture = grid.picture
    title_height = 2 * TITLE_LINE_HEIGHT + GAP // 2
    assert picture.shape == (title_height + LABEL_HEIGHT + 3 * (40 + GAP) + ROW_HEIGHT,
                             50 + 60 + 3 * GAP, 3)
    for (gt, pred), placed in zip(rows, grid.panels):
        for panel, (top, left, height, width) in zip((gt, pred), placed):
            assert (height, width) == panel.shape[:2]
            assert np.array_equal(picture[top:top + height, left:left + width], panel)
    assert grid.panels[0][0][0] == title_height + LABEL_HEIGHT
    assert grid.panels[0][1][1] == 2 * GAP + 50  # the prediction column after the widest truth
    assert (picture[:title_height] < 128).any()  # the title is written
    assert (picture[title_height:title_height + LABEL_HEIGHT] < 128).any()  # column labels
    legend = picture[-ROW_HEIGHT:]
    assert ((legend == (255, 0, 0)).all(-1)).any() and ((legend == (0, 0, 255)).all(-1)).any()
    with pytest.raises(ValueError, match='at least one'):
        comparison_grid([], 't', [])
