"""RoIAlign of RoIs spread over pyramid levels with torchvision's kernel, one call per level and
one host synchronisation per call.

mmdet's ``SingleRoIExtractor`` selects each level's RoIs with ``nonzero`` (a synchronisation per
level) and writes them back with indexed assignment. Here the RoIs are sorted by level once,
split by the level counts (the only value read back to the host), pooled level by level and put
back in their order with one gather.
"""
from typing import Optional, Sequence, Tuple

import torch
from torch import Tensor

from ...ops.kernels import roi_align


def roi_align_by_level(features: Sequence[Tensor], rois: Tensor, levels: Tensor,
                       spatial_scales: Sequence[float], output_size: Tuple[int, int],
                       sampling_ratio: int, aligned: bool,
                       pooled: Optional[Tensor] = None) -> Tensor:
    """mmcv's ``RoIAlign`` (average pooling) of each RoI on its level of ``features``; the same
    contract as :func:`~.gather_roi_align.roi_align_gather`.

    ``features``: levels of (N, C, H, W); ``rois`` (R, 5) in input pixels; ``levels`` (R,);
    ``spatial_scales``: 1 / stride per level; ``pooled`` (R,) bool: RoIs to pool (the others
    give 0). Returns (R, C, h, w) in the features' dtype. Every level takes part in the graph,
    with a zero gradient where no RoI maps to it (as in mmdet's loop, so DDP sees all of them).
    """
    order = torch.argsort(levels, stable=True)
    counts = torch.bincount(levels, minlength=len(features)).tolist()
    parts = [roi_align(feature, level_rois, scale, output_size, sampling_ratio, aligned)
             for feature, scale, level_rois in zip(features, spatial_scales,
                                                   rois[order].split(counts))]
    pooled_features = torch.cat(parts).index_select(0, torch.argsort(order))
    if pooled is not None:
        pooled_features = pooled_features * pooled[:, None, None, None].to(pooled_features.dtype)
    return pooled_features
