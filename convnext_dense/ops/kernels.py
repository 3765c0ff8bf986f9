"""Kernels behind mmcv's ``mmcv._ext`` names, computed with torchvision and plain torch.

Each function keeps the calling convention of mmcv 2.x's compiled extension: the same argument
names, and, where mmcv passes pre-allocated output tensors, results written into them. The
torchvision kernels dispatch on the tensors' device, so every op here runs on CPU and CUDA.
"""
import torch
from torch import Tensor

import torchvision  # noqa: F401  (registers the torch.ops.torchvision kernels)

from .backend import MissingKernelError
from .soft_nms import soft_nms_picks

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
    pixel from x1 / y1 in both libraries, so the result is unchanged). Computed for every RoI,
    changed or not: asking whether any is inverted would wait for the GPU.
    """
    if sampling_ratio > 0:
        return rois
    return torch.cat([rois[:, :3], torch.maximum(rois[:, 3:5], rois[:, 1:3])], dim=1)


def kernel_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype RoIAlign computes in for features of ``dtype``: float64 stays, anything else
    runs in float32.

    torchvision's kernels exist for float16 / float32 / float64 only (no bfloat16, on CPU or
    CUDA), take RoIs of the features' dtype, and accumulate in it: float16 RoI coordinates are
    4 pixels apart at x = 1000 and 1 / 1000 relative in the bilinear weights. The float32 copy
    costs one map-sized cast per call; torchvision's own autocast kernel makes the same choice.
    """
    return torch.float64 if dtype == torch.float64 else torch.float32


def roi_align(input: Tensor, rois: Tensor, spatial_scale: float, output_size, sampling_ratio: int,
              aligned: bool) -> Tensor:
    """torchvision's RoIAlign (average) with autograd, for features and RoIs of any floating
    dtype: computed in :func:`kernel_dtype`, returned in ``input``'s dtype.

    Args:
        input: (N, C, H, W) features; rois: (K, 5) batch index, x1, y1, x2, y2.
        output_size: (h, w) bins. Returns (K, C, h, w).
    """
    dtype = kernel_dtype(input.dtype)
    rois = _clamp_inverted_rois(rois.to(dtype), sampling_ratio)
    with torch.autocast(input.device.type, enabled=False):
        pooled = torch.ops.torchvision.roi_align(input.to(dtype), rois, float(spatial_scale),
                                                 output_size[0], output_size[1], sampling_ratio,
                                                 bool(aligned))
    return pooled.to(input.dtype)


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

    Any floating dtype (bfloat16 included, which torchvision lacks): see :func:`roi_align`.
    RoIs with x2 < x1 or y2 < y1 pool to zeros, as on mmcv's CUDA kernel (see
    :func:`_clamp_inverted_rois`).
    """
    _check_avg_pool_mode(pool_mode)
    output.copy_(roi_align(input, rois, spatial_scale, (aligned_height, aligned_width),
                           sampling_ratio, aligned))


def roi_align_backward(grad_output: Tensor, rois: Tensor, argmax_y: Tensor, argmax_x: Tensor,
                       grad_input: Tensor, aligned_height: int, aligned_width: int,
                       spatial_scale: float, sampling_ratio: int, pool_mode: int,
                       aligned: bool) -> None:
    """RoIAlign backward, average pooling; adds the gradient into ``grad_input`` (N, C, H, W),
    computed in :func:`kernel_dtype`."""
    _check_avg_pool_mode(pool_mode)
    dtype = kernel_dtype(grad_output.dtype)
    rois = _clamp_inverted_rois(rois.to(dtype), sampling_ratio)
    batch, channels, height, width = grad_input.shape
    grad = torch.ops.torchvision._roi_align_backward(
        grad_output.to(dtype), rois, float(spatial_scale), aligned_height, aligned_width, batch,
        channels, height, width, sampling_ratio, bool(aligned))
    grad_input.add_(grad.to(grad_input.dtype))


def softnms(boxes: Tensor, scores: Tensor, dets: Tensor, iou_threshold: float, sigma: float,
            min_score: float, method: int, offset: int) -> Tensor:
    """Soft-NMS (Bodla et al. 2017) with mmcv's CPU kernel's semantics, step for step: pick the
    highest-scoring candidate, decay the others' scores by their IoU with it (naive: to 0 at or
    above ``iou_threshold``; linear: by ``1 - IoU`` at or above it; gaussian:
    ``exp(-IoU^2 / sigma)``), drop those below ``min_score`` (their places taken by candidates
    from the end of the list, which sets the order of ties), repeat
    (:func:`~.soft_nms.soft_nms_picks`).

    Args:
        boxes: (N, 4) x1, y1, x2, y2; scores: (N,).
        dets: (N, 5) output: row k is the k-th pick's box and decayed score.
        offset: 0 or 1, added to widths and heights (mmcv's legacy convention).
    Returns:
        (K,) int64 indices into ``boxes`` of the picks, in pick order; ``dets[:K]`` holds them.
    """
    if boxes.numel() == 0:
        return torch.empty(0, dtype=torch.long)
    picks, picked_scores = soft_nms_picks(boxes, scores, iou_threshold, sigma, min_score,
                                          method, offset)
    dets[:len(picks), :4] = boxes[picks.to(boxes.device)].to(dets.dtype)
    dets[:len(picks), 4] = picked_scores.to(dets)
    return picks


PROVIDED_KERNELS = {
    'nms': nms,
    'softnms': softnms,
    'roi_align_forward': roi_align_forward,
    'roi_align_backward': roi_align_backward,
}
