"""Ground truth beside prediction, a row per image, as one picture with a title and a legend.

:func:`upscaled` enlarges a data sample (its instances or class maps, ground truth and
prediction) so that small images are drawn at a readable size by mmdet's / mmseg's own
visualisers; :func:`comparison_grid` lays out the drawn panels:

    +-----------------------------------------+
    | title (the metrics), one or more lines  |  TITLE_LINE_HEIGHT each
    | ground truth          prediction        |  LABEL_HEIGHT
    | [panel]               [panel]           |  a row per image, GAP between panels
    | ...                                     |
    | legend (swatch, class name) ...         |  see add_legend
    +-----------------------------------------+
"""
from dataclasses import dataclass
from typing import List, Sequence, Tuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from mmengine.structures import BaseDataElement, InstanceData, PixelData

from .legend import Colour, add_legend

TITLE_LINE_HEIGHT = 28
LABEL_HEIGHT = 24
GAP = 8
COLUMNS = ('ground truth', 'prediction')
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def _upscaled_masks(masks, factor: int) -> torch.Tensor:
    """(N, H, W) masks (tensor, array or mmdet's BitmapMasks / PolygonMasks) as a bool tensor
    (N, H * factor, W * factor), nearest neighbour."""
    if hasattr(masks, 'to_ndarray'):
        masks = masks.to_ndarray()
    masks = torch.as_tensor(masks)
    if masks.numel() == 0:
        return masks.new_zeros((masks.shape[0], masks.shape[1] * factor,
                                masks.shape[2] * factor), dtype=torch.bool)
    return F.interpolate(masks[None].float(), scale_factor=factor, mode='nearest')[0].bool()


def _upscaled_instances(instances: InstanceData, factor: int) -> InstanceData:
    result = instances.clone()
    boxes = instances.bboxes
    result.bboxes = (boxes.tensor if hasattr(boxes, 'tensor') else boxes) * factor
    if 'masks' in instances:
        result.masks = _upscaled_masks(instances.masks, factor)
    return result


def upscaled(sample: BaseDataElement, factor: int) -> BaseDataElement:
    """A copy of ``sample`` whose ``gt_instances`` / ``pred_instances`` (boxes xyxy (N, 4),
    masks (N, H, W)) and ``gt_sem_seg`` / ``pred_sem_seg`` ((1, H, W)) are ``factor`` times
    larger, as if predicted on the image enlarged ``factor`` times (nearest neighbour)."""
    result = sample.clone()
    for field in ('gt_instances', 'pred_instances'):
        if field in sample:
            result.set_field(_upscaled_instances(sample.get(field), factor), field)
    for field in ('gt_sem_seg', 'pred_sem_seg'):
        if field in sample:
            labels = sample.get(field).data
            enlarged = labels.repeat_interleave(factor, dim=-2).repeat_interleave(factor, dim=-1)
            result.set_field(PixelData(data=enlarged), field)
    return result


def upscale_factor(height: int, width: int, min_side: int) -> int:
    """The smallest whole factor that brings the shorter side to at least ``min_side``."""
    return max(1, -(-min_side // min(height, width)))


def _text(canvas: np.ndarray, text: str, left: int, bottom: int, scale: float,
          thickness: int = 1) -> None:
    cv2.putText(canvas, text, (left, bottom), _FONT, scale, (0, 0, 0), thickness, cv2.LINE_AA)


def _fit_scale(text: str, width: int, scale: float, thickness: int) -> float:
    """``scale``, reduced until ``text`` fits in ``width`` pixels."""
    text_width = cv2.getTextSize(text, _FONT, scale, thickness)[0][0]
    return scale if text_width <= width else scale * width / text_width


@dataclass
class ComparisonGrid:
    """The picture (H, W, 3) uint8 RGB and where each panel lies in it: ``panels[row][col]``
    is (top, left, height, width), column 0 the ground truth and column 1 the prediction."""
    picture: np.ndarray
    panels: List[List[Tuple[int, int, int, int]]]


def comparison_grid(rows: Sequence[Tuple[np.ndarray, np.ndarray]], title: str,
                    legend: Sequence[Tuple[str, Colour]]) -> ComparisonGrid:
    """Lays out (ground truth, prediction) RGB panel pairs, a row each, under ``title`` (its
    first line bold; lines split at newlines) and column labels, with a legend strip of
    (name, RGB colour) below. Panels in one column are aligned left; a row is as tall as its
    taller panel."""
    if not rows:
        raise ValueError('comparison_grid needs at least one (ground truth, prediction) row.')
    col_widths = [max(row[c].shape[1] for row in rows) for c in range(2)]
    width = sum(col_widths) + 3 * GAP
    heights = [max(gt.shape[0], pred.shape[0]) for gt, pred in rows]
    title_lines = title.split('\n')
    title_height = TITLE_LINE_HEIGHT * len(title_lines) + GAP // 2
    height = title_height + LABEL_HEIGHT + sum(heights) + GAP * len(rows)
    canvas = np.full((height, width, 3), 255, np.uint8)
    for number, line in enumerate(title_lines):
        thickness, scale = (2, 0.65) if number == 0 else (1, 0.55)
        _text(canvas, line, GAP, TITLE_LINE_HEIGHT * (number + 1) - 8,
              _fit_scale(line, width - 2 * GAP, scale, thickness), thickness)
    lefts = [GAP, 2 * GAP + col_widths[0]]
    for name, left, col_width in zip(COLUMNS, lefts, col_widths):
        _text(canvas, name, left, title_height + LABEL_HEIGHT - 7,
              _fit_scale(name, col_width, 0.6, 1))
    panels, top = [], title_height + LABEL_HEIGHT
    for (gt, pred), row_height in zip(rows, heights):
        placed = []
        for panel, left in zip((gt, pred), lefts):
            canvas[top:top + panel.shape[0], left:left + panel.shape[1]] = panel
            placed.append((top, left, panel.shape[0], panel.shape[1]))
        panels.append(placed)
        top += row_height + GAP
    return ComparisonGrid(add_legend(canvas, legend), panels)
