"""mmdet's ``SingleRoIExtractor`` with RoI geometry kept in float32 under any autocast, and the
RoIAlign kernel chosen by device in one function (:func:`roi_align_kernel`).

Why float32: mmdet rounds the RoIs to the features' dtype (``rois.type_as(feats[0])``). Under
bfloat16 autocast a coordinate near x = 1000 then moves in steps of 4 pixels, and the sampling
positions and bilinear weights computed from it are wrong by as much: measured against a
float64 reference (256 RoIs, four FPN levels, bf16 features), 0.54 relative error for mmdet's
extractor and 0.93 for ours before this change, 2e-3 with float32 geometry.
"""
from typing import Callable, List, Optional, Tuple

import torch
from mmdet.models.roi_heads.roi_extractors import SingleRoIExtractor
from torch import Tensor

from .gather_roi_align import roi_align_gather
from .torchvision_roi_align import roi_align_by_level

KERNELS = {'gather': roi_align_gather, 'torchvision': roi_align_by_level}


def roi_align_kernel(device: torch.device, deterministic: Optional[bool] = None) -> str:
    """The RoIAlign kernel for features on ``device``, a key of :data:`KERNELS`.

    ``'gather'`` (:mod:`.gather_roi_align`) on CPU, where its backward is several times faster
    than torchvision's single-threaded one; ``'torchvision'`` on GPUs, where it is one launch
    per level against thousands of small ones. On a GPU with deterministic algorithms on
    (``deterministic``, default: torch's current setting) ``'gather'`` again: torchvision's GPU
    backward has no deterministic implementation.
    """
    if deterministic is None:
        deterministic = torch.are_deterministic_algorithms_enabled()
    if device.type == 'cpu' or deterministic:
        return 'gather'
    return 'torchvision'


def geometry_dtype(features: Tensor, rois: Tensor) -> torch.dtype:
    """float64 if the features or RoIs are, else float32, whatever autocast gives the maps."""
    return torch.float64 if torch.float64 in (features.dtype, rois.dtype) else torch.float32


class RoIAlignExtractor(SingleRoIExtractor):
    """mmdet's ``SingleRoIExtractor`` (same arguments, same level mapping, same values) with
    RoIAlign computed from float32 RoIs by the kernel :func:`roi_align_kernel` picks.

    Input: ``feats`` (levels of (N, C, H, W), any floating dtype), ``rois`` (R, 5: batch
    index, x1, y1, x2, y2); output (R, C, h, w) in the features' dtype. RoI layers other than
    RoIAlign with average pooling run mmdet's own loop. ``kernel`` (a key of :data:`KERNELS`)
    fixes the kernel; None (default) lets :func:`roi_align_kernel` choose by device.
    ``import convnext_dense`` registers it (``type='RoIAlignExtractor'``) without importing this
    module until a config builds one.
    """

    def __init__(self, roi_layer: dict, out_channels: int, featmap_strides: List[int],
                 finest_scale: int = 56, init_cfg: Optional[dict] = None,
                 kernel: Optional[str] = None):
        super().__init__(roi_layer, out_channels, featmap_strides, finest_scale, init_cfg)
        if kernel is not None and kernel not in KERNELS:
            raise ValueError(f'RoIAlignExtractor kernel={kernel!r}: choose one of '
                             f'{sorted(KERNELS)}, or None to choose by device.')
        self.kernel = kernel

    def forward(self, feats: Tuple[Tensor], rois: Tensor,
                roi_scale_factor: Optional[float] = None) -> Tensor:
        layer = self.roi_layers[0]
        if type(layer).__name__ != 'RoIAlign' or getattr(layer, 'pool_mode', 'avg') != 'avg':
            return super().forward(feats, rois, roi_scale_factor)
        rois = rois.to(geometry_dtype(feats[0], rois))
        levels = (self.map_roi_levels(rois, len(feats)) if len(feats) > 1 else
                  torch.zeros(rois.shape[0], dtype=torch.long, device=rois.device))
        # An inverted RoI has no scale (NaN) and so no level: mmdet's loop leaves it at 0.
        mapped = (levels >= 0) & (levels < len(feats))
        if roi_scale_factor is not None:
            rois = self.roi_rescale(rois, roi_scale_factor)
        scales = [self.roi_layers[i].spatial_scale for i in range(len(feats))]
        kernel: Callable = KERNELS[self.kernel or roi_align_kernel(feats[0].device)]
        return kernel(feats, rois, levels.where(mapped, 0), scales, tuple(layer.output_size),
                      layer.sampling_ratio, layer.aligned, mapped)
