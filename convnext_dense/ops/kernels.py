"""Kernels behind mmcv's ``mmcv._ext`` names, computed with torchvision and plain torch.

Each function keeps the calling convention of mmcv 2.x's compiled extension: the same argument
names, and, where mmcv passes pre-allocated output tensors, results written into them. The
torchvision kernels dispatch on the tensors' device, so every op here runs on CPU and CUDA.
"""
import torch
from torch import Tensor

import torchvision  # noqa: F401  (registers the torch.ops.torchvision kernels)

from .backend import MissingKernelError

# mmcv's RoIAlign encodes its pooling mode as an int in the extension call.
_ROI_ALIGN_AVG = 1


def nms(boxes: Tensor, scores: Tensor, iou_threshold: float, offset: int = 0) -> Tensor:
    """Greedy NMS; returns kept indices (int64) in order of decreasing score.

    Args:
        boxes: (N, 4) boxes as x1, y1, x2, y2.
        scores: (N,) scores.
        iou_threshold: boxes overlapping a kept box by more than this IoU are dropped.
        offset: 0 or 1; mmcv's legacy convention where a box is ``x2 - x1 + offset`` wide.
    """
    if offset:
        # Widening every box by `offset` reproduces mmcv's (x2 - x1 + offset) areas and overlaps.
        boxes = torch.cat([boxes[:, :2], boxes[:, 2:] + offset], dim=1)
    return torch.ops.torchvision.nms(boxes, scores, float(iou_threshold))


def _check_avg_pool_mode(pool_mode: int) -> None:
    if pool_mode != _ROI_ALIGN_AVG:
        raise MissingKernelError(
            "mmcv op 'roi_align' with pool_mode='max' is not provided by convnext-dense "
            "(only pool_mode='avg', mmdet's default, is). Install a full mmcv built for your "
            "torch to use max pooling.")


def _clamp_inverted_rois(rois: Tensor, sampling_ratio: int) -> Tensor:
    """RoIs whose x2 < x1 or y2 < y1 (random-weight heads produce them) with x2 / y2 raised to
    x1 / y1 when the sampling grid is adaptive (``sampling_ratio <= 0``).

    There torchvision's CPU kernel sizes its sample buffer by ceil(side / bins) per side, a
    negative number, and fails with "cannot create std::vector larger than max_size()". mmcv's
    CUDA kernel runs an empty sampling loop for such RoIs and outputs zeros; a zero-size RoI
    makes torchvision do the same (aligned: zero samples; not aligned: sides are clamped to 1
    pixel from x1 / y1 in both libraries, so the result is unchanged).
    """
    if sampling_ratio > 0:
        return rois
    inverted = (rois[:, 3] < rois[:, 1]) | (rois[:, 4] < rois[:, 2])
    if not bool(inverted.any()):
        return rois
    clamped = rois.clone()
    clamped[:, 3] = torch.maximum(rois[:, 3], rois[:, 1])
    clamped[:, 4] = torch.maximum(rois[:, 4], rois[:, 2])
    return clamped


def roi_align_forward(input: Tensor, rois: Tensor, output: Tensor, argmax_y: Tensor,
                      argmax_x: Tensor, aligned_height: int, aligned_width: int,
                      spatial_scale: float, sampling_ratio: int, pool_mode: int,
                      aligned: bool) -> None:
    """RoIAlign forward, average pooling; writes (K, C, aligned_height, aligned_width) into
    ``output``.

    Args:
        input: (N, C, H, W) feature map.
        rois: (K, 5) rows of batch index, x1, y1, x2, y2 in input-image coordinates.
        argmax_y, argmax_x: used by mmcv's max mode only; untouched here.
        spatial_scale: factor from image to feature-map coordinates.
        sampling_ratio: samples per bin side; 0 picks ceil(roi size / bin count) per RoI.
        aligned: if True, pixel centres sit at +0.5 (shift by -0.5 before sampling).

    RoIs with x2 < x1 or y2 < y1 pool to zeros, as on mmcv's CUDA kernel (see
    :func:`_clamp_inverted_rois`).
    """
    _check_avg_pool_mode(pool_mode)
    rois = _clamp_inverted_rois(rois, sampling_ratio)
    pooled = torch.ops.torchvision.roi_align(input, rois, float(spatial_scale), aligned_height,
                                             aligned_width, sampling_ratio, bool(aligned))
    output.copy_(pooled)


def roi_align_backward(grad_output: Tensor, rois: Tensor, argmax_y: Tensor, argmax_x: Tensor,
                       grad_input: Tensor, aligned_height: int, aligned_width: int,
                       spatial_scale: float, sampling_ratio: int, pool_mode: int,
                       aligned: bool) -> None:
    """RoIAlign backward, average pooling; adds the gradient into ``grad_input`` (N, C, H, W)."""
    _check_avg_pool_mode(pool_mode)
    rois = _clamp_inverted_rois(rois, sampling_ratio)
    batch, channels, height, width = grad_input.shape
    grad = torch.ops.torchvision._roi_align_backward(
        grad_output, rois, float(spatial_scale), aligned_height, aligned_width, batch, channels,
        height, width, sampling_ratio, bool(aligned))
    grad_input.add_(grad)


PROVIDED_KERNELS = {
    'nms': nms,
    'roi_align_forward': roi_align_forward,
    'roi_align_backward': roi_align_backward,
}
