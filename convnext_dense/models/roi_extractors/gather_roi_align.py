"""RoIAlign as weighted gathers of pixel rows: mmcv's RoIAlign values with a backward pass
several times faster on CPU, and deterministic on CUDA.

Why: in a Mask R-CNN-T training step on CPU (batch 2 at 512, 2 threads), torchvision's
``roi_align`` backward, which serves mmcv's RoIAlign here, took 2.0 of 9.1 s: one thread, and
every (RoI, channel, bin) recomputes its interpolation weights and scatters into NCHW memory.

RoIAlign is linear in the features: each output bin is a weighted sum of feature pixels (the
bilinear taps of its sampling points, divided by their count). Here a level's pixels are rows
of a (pixels, C) table (a view of a channels_last map) and each bin is an ``embedding_bag`` of
its taps with ``per_sample_weights``: the forward pass gathers C-vectors, the backward pass
(torch's own) adds C-vectors into the table's gradient. The taps follow torchvision's / mmcv's CPU kernel rule
for rule (sampling grid ``ceil(roi size / bins)`` when ``sampling_ratio`` is 0, the half-pixel
offset when ``aligned``, samples beyond one pixel outside the map count as zero, clamping at the
borders), so results equal mmcv's RoIAlign up to float summation order.

Measured (AMD EPYC, 2 threads, 1024 RoIs on 4 levels of 2 x 256 maps from 128 x 128 down,
7 x 7 bins, NCHW maps): torchvision forward 0.36 s, backward 1.25 s; this one 0.15 s and 0.24 s (see
``tests/models/roi_extractors/`` for the agreement, ``tools/benchmark.py`` for whole models).

On CUDA the same gathers issue thousands of small kernels and host synchronisations per call
(one group per sampling grid and level), where torchvision's kernel is one launch per level, so
:func:`~.roi_align_extractor.roi_align_kernel` runs this only on CPU, and on CUDA only when
deterministic algorithms are on: torchvision's CUDA backward adds with atomics and refuses to
run then, while ``embedding_bag``'s sum backward sorts its rows and is deterministic.
"""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

# Tap rows and bag offsets in int32 (embedding_bag takes either): half the memory of the tap
# tensors, which for 1000 proposals at 800 x 800 reach tens of MB. Rows stay below 2^31 for
# any map (N * H * W).
TAP_INDEX = torch.int32


def sampling_grid(length: Tensor, bins: int, sampling_ratio: int) -> Tensor:
    """Sampling points per bin along one axis, per RoI (R,): mmcv's adaptive rule
    ``ceil(length / bins)`` when ``sampling_ratio`` is 0 (none for an empty or inverted RoI)."""
    if sampling_ratio > 0:
        return torch.full(length.shape, sampling_ratio, dtype=torch.long, device=length.device)
    return torch.ceil(length / bins).long().clamp(min=0)


def axis_taps(start: Tensor, length: Tensor, bins: int, grid: int,
              size: int) -> Tuple[Tensor, Tensor]:
    """The bilinear taps along one axis of RoIs sharing one sampling ``grid``.

    ``start``, ``length`` (R,): the RoIs' extent in feature pixels; ``size``: the map's size
    along this axis. Returns pixel indices and weights, both (R, bins, grid, 2): each
    sampling point's lower and upper neighbour. A point more than one pixel outside the map
    weighs 0; points below 0 are clamped to 0 and points on the last pixel take it alone.
    """
    steps = torch.arange(bins, dtype=start.dtype, device=start.device)
    offsets = torch.arange(grid, dtype=start.dtype, device=start.device) + 0.5
    bin_size = (length / bins)[:, None, None]
    position = (start[:, None, None] + steps[None, :, None] * bin_size
                + offsets[None, None, :] * bin_size / grid)
    inside = (position >= -1.0) & (position <= size)
    position = position.clamp(min=0)
    low = position.to(TAP_INDEX)
    at_edge = low >= size - 1
    low = low.clamp(max=size - 1)
    high = torch.where(at_edge, low, low + 1)
    fraction = torch.where(at_edge, torch.zeros_like(position), position - low)
    weights = torch.stack([1.0 - fraction, fraction], -1) * inside[..., None]
    return torch.stack([low, high], -1), weights


def pixel_rows(feature: Tensor) -> Tensor:
    """A level's (N, C, H, W) map as a (N * H * W, C) table of pixel rows: a view of a
    channels_last map (our backbone's FPN levels are), a copy of an NCHW one."""
    return feature.permute(0, 2, 3, 1).reshape(-1, feature.shape[1])


def bag_taps(rois: Tensor, x1: Tensor, y1: Tensor, width: Tensor, height: Tensor,
             output_size: Tuple[int, int], grid: Tuple[int, int],
             map_size: Tuple[int, int]) -> Tuple[Tensor, Tensor]:
    """The rows and weights of every bin's taps for RoIs of one level and one sampling grid:
    (R * h * w * 4 * gy * gx,) each, bin after bin, so each bin is one bag of
    ``F.embedding_bag``. Weights include the 1 / (gy * gx) of the average."""
    (bins_y, bins_x), (gy, gx), (map_h, map_w) = output_size, grid, map_size
    ys, wys = axis_taps(y1, height, bins_y, gy, map_h)
    xs, wxs = axis_taps(x1, width, bins_x, gx, map_w)
    first_row = rois[:, 0].to(TAP_INDEX) * (map_h * map_w)
    # (R, bins_y, bins_x, gy, 2, gx, 2): every pair of a y tap and an x tap of one bin.
    rows = (first_row[:, None, None, None, None, None, None]
            + ys[:, :, None, :, :, None, None] * map_w + xs[:, None, :, None, None, :, :])
    weights = wys[:, :, None, :, :, None, None] * wxs[:, None, :, None, None, :, :] / (gy * gx)
    return rows.reshape(-1), weights.reshape(-1)


def level_taps(rois: Tensor, x1: Tensor, y1: Tensor, width: Tensor, height: Tensor,
               grid_y: Tensor, grid_x: Tensor, output_size: Tuple[int, int],
               map_size: Tuple[int, int]) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """The bags of one level's RoIs: (RoI order, tap rows, tap weights, bag lengths). RoIs are
    taken in groups of one sampling grid, so that each group's taps form a dense block; the
    bags follow the RoI order returned, h * w bags per RoI."""
    bins_y, bins_x = output_size
    members, rows, weights, lengths = [], [], [], []
    grids = torch.stack([grid_y, grid_x], 1)
    for gy, gx in torch.unique(grids, dim=0).tolist():
        group = torch.nonzero((grids[:, 0] == gy) & (grids[:, 1] == gx)).squeeze(1)
        members.append(group)
        lengths.append(torch.full((group.numel() * bins_y * bins_x, ), 4 * gy * gx,
                                  dtype=TAP_INDEX, device=rois.device))
        if gy > 0 and gx > 0:  # no sampling point: an empty bag, which pools to 0 as in mmcv
            group_rows, group_weights = bag_taps(rois[group], x1[group], y1[group],
                                                 width[group], height[group], output_size,
                                                 (gy, gx), map_size)
            rows.append(group_rows)
            weights.append(group_weights)
    rows = torch.cat(rows) if rows else torch.zeros(0, dtype=TAP_INDEX, device=rois.device)
    weights = torch.cat(weights) if weights else x1.new_zeros(0)
    return torch.cat(members), rows, weights, torch.cat(lengths)


def roi_align_gather(features: Sequence[Tensor], rois: Tensor, levels: Tensor,
                     spatial_scales: Sequence[float], output_size: Tuple[int, int],
                     sampling_ratio: int, aligned: bool,
                     pooled: Optional[Tensor] = None) -> Tensor:
    """mmcv's ``RoIAlign`` (average pooling) of each RoI on its level of ``features``.

    ``features``: levels of (N, C, H, W); ``rois`` (R, 5): batch index, x1, y1, x2, y2 in input
    pixels; ``levels`` (R,): each RoI's level; ``spatial_scales``: 1 / stride per level;
    ``pooled`` (R,) bool: RoIs to pool (the others give 0; default all). Returns (R, C, h, w)
    in the features' dtype, with autograd to ``features``. The tap geometry is computed in
    ``rois``' dtype, which the caller keeps at float32 or above.
    """
    bins = bins_y, bins_x = output_size
    scale = torch.tensor(spatial_scales, dtype=rois.dtype, device=rois.device)[levels]
    offset = 0.5 if aligned else 0.0
    x1, y1 = rois[:, 1] * scale - offset, rois[:, 2] * scale - offset
    width, height = rois[:, 3] * scale - offset - x1, rois[:, 4] * scale - offset - y1
    if not aligned:
        width, height = width.clamp(min=1.0), height.clamp(min=1.0)
    grid_y = sampling_grid(height, bins_y, sampling_ratio)
    grid_x = sampling_grid(width, bins_x, sampling_ratio)
    if pooled is not None:
        grid_y = grid_y * pooled
    channels = features[0].shape[1]
    parts: List[Tensor] = []
    order: List[Tensor] = []
    # As in mmdet's loop, a level no RoI maps to stays in the graph with a zero gradient.
    unused: List[Tensor] = []
    for level, feature in enumerate(features):
        on_level = torch.nonzero(levels == level).squeeze(1)
        if on_level.numel() == 0:
            unused.append(feature.sum() * 0.0)
            continue
        members, rows, weights, lengths = level_taps(
            rois[on_level], x1[on_level], y1[on_level], width[on_level], height[on_level],
            grid_y[on_level], grid_x[on_level], output_size, tuple(feature.shape[2:]))
        table = pixel_rows(feature)
        order.append(on_level[members])
        offsets = torch.cumsum(lengths, 0, dtype=TAP_INDEX) - lengths
        parts.append(F.embedding_bag(rows, table, offsets,
                                     mode='sum', per_sample_weights=weights.to(table.dtype)))
    if parts:
        grouped = torch.cat(parts).view(-1, bins_y, bins_x, channels)
        pooled_features = grouped.index_select(0, torch.argsort(torch.cat(order)))
        pooled_features = pooled_features.permute(0, 3, 1, 2)
    else:
        pooled_features = features[0].new_zeros((0, channels) + tuple(bins))
    return pooled_features + sum(unused) if unused else pooled_features
