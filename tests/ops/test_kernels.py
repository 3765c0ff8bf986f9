"""Kernels against slow, obviously-correct references, called through mmcv's own Python ops."""
import math

import pytest
import torch
from mmcv.ops import batched_nms, nms, roi_align, soft_nms

from convnext_dense.ops import MissingKernelError


def random_boxes(n: int, size: float = 64.0) -> torch.Tensor:
    xy = torch.rand(n, 2) * size
    wh = torch.rand(n, 2) * size / 2 + 1
    return torch.cat([xy, xy + wh], dim=1)


def reference_nms(boxes, scores, iou_threshold, offset=0):
    """Greedy NMS in plain Python."""
    order = sorted(range(len(scores)), key=lambda i: -float(scores[i]))
    keep = []

    def area(b):
        return (b[2] - b[0] + offset) * (b[3] - b[1] + offset)

    for i in order:
        ok = True
        for j in keep:
            a, b = boxes[i].tolist(), boxes[j].tolist()
            w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]) + offset)
            h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]) + offset)
            inter = w * h
            if inter / (area(a) + area(b) - inter) > iou_threshold:
                ok = False
                break
        if ok:
            keep.append(i)
    return keep


@pytest.mark.parametrize('offset', [0, 1])
@pytest.mark.parametrize('iou_threshold', [0.3, 0.7])
def test_nms_matches_greedy_reference(offset, iou_threshold):
    boxes, scores = random_boxes(60), torch.rand(60)
    dets, keep = nms(boxes, scores, iou_threshold, offset=offset)
    assert keep.tolist() == reference_nms(boxes, scores, iou_threshold, offset)
    assert keep.dtype == torch.int64
    torch.testing.assert_close(dets[:, 4], scores[keep])


def test_nms_empty_input():
    dets, keep = nms(torch.zeros(0, 4), torch.zeros(0), 0.5)
    assert keep.shape == (0, ) and dets.shape == (0, 5)


def test_nms_score_threshold_and_max_num():
    boxes, scores = random_boxes(40), torch.rand(40)
    _, keep = nms(boxes, scores, 0.5, score_threshold=0.5, max_num=5)
    valid = [i for i in reference_nms(boxes, scores, 0.5) if scores[i] > 0.5]
    assert keep.tolist() == valid[:5]


@pytest.mark.parametrize('class_agnostic', [False, True])
def test_batched_nms_keeps_mmcv_semantics(class_agnostic):
    boxes, scores = random_boxes(50), torch.rand(50)
    labels = torch.randint(0, 3, (50, ))
    cfg = dict(type='nms', iou_threshold=0.5, class_agnostic=class_agnostic)
    dets, keep = batched_nms(boxes, scores, labels, cfg)
    if class_agnostic:
        expected = reference_nms(boxes, scores, 0.5)
    else:
        members = [torch.nonzero(labels == c).flatten().tolist() for c in range(3)]
        expected = [members[c][i] for c in range(3)
                    for i in reference_nms(boxes[members[c]], scores[members[c]], 0.5)]
    assert sorted(keep.tolist()) == sorted(expected)
    assert torch.all(dets[:-1, 4] >= dets[1:, 4]), 'batched_nms must return scores sorted'


def test_batched_nms_split_threshold_path_agrees():
    boxes, scores = random_boxes(80), torch.rand(80)
    labels = torch.randint(0, 4, (80, ))
    cfg = dict(type='nms', iou_threshold=0.5)
    _, keep_small = batched_nms(boxes, scores, labels, dict(cfg, split_thr=10))
    _, keep_big = batched_nms(boxes, scores, labels, dict(cfg, split_thr=10000))
    assert keep_small.tolist() == keep_big.tolist()


def reference_soft_nms(boxes, scores, iou_threshold, sigma, min_score, method, offset=0):
    """Soft-NMS in plain Python lists, in mmcv's order: pick the first maximum, decay the rest,
    move the last candidate into the place of one that falls under min_score."""
    rows = [b.tolist() + [float(s), i] for i, (b, s) in enumerate(zip(boxes, scores))]
    picks, i = [], 0
    while i < len(rows):
        best = max(range(i, len(rows)), key=lambda k: (rows[k][4], -k))
        rows[i], rows[best] = rows[best], rows[i]
        top = rows[i]
        picks.append(list(top))
        area = (top[2] - top[0] + offset) * (top[3] - top[1] + offset)
        pos = i + 1
        while pos < len(rows):
            row = rows[pos]
            w = max(0.0, min(top[2], row[2]) - max(top[0], row[0]) + offset)
            h = max(0.0, min(top[3], row[3]) - max(top[1], row[1]) + offset)
            overlap = w * h / (area + (row[2] - row[0] + offset) * (row[3] - row[1] + offset)
                               - w * h)
            if method == 'naive':
                row[4] *= 0.0 if overlap >= iou_threshold else 1.0
            elif method == 'linear':
                row[4] *= 1 - overlap if overlap >= iou_threshold else 1.0
            else:
                row[4] *= math.exp(-overlap * overlap / sigma)
            if row[4] < min_score:
                rows[pos] = rows[-1]
                rows.pop()
                continue
            pos += 1
        i += 1
    return [p[5] for p in picks], [p[:5] for p in picks]


SOFT_NMS_BOXES = torch.tensor([[6.0, 3.0, 8.0, 7.0], [3.0, 6.0, 9.0, 11.0],
                               [3.0, 7.0, 10.0, 12.0], [1.0, 4.0, 13.0, 7.0]])
SOFT_NMS_SCORES = torch.tensor([0.6, 0.9, 0.7, 0.2])


@pytest.mark.parametrize('method, inds, scores', [  # mmcv's own test_softnms_allclose values
    ('linear', [1, 0, 2, 3], [0.9, 0.6, 0.29024392, 0.2]),
    ('gaussian', [1, 0, 2, 3], [0.9, 0.59630775, 0.35275510, 0.18650459]),
    ('naive', [1, 0, 3], [0.9, 0.6, 0.2]),
])
def test_soft_nms_gives_mmcvs_expected_values(method, inds, scores):
    dets, keep = soft_nms(SOFT_NMS_BOXES, SOFT_NMS_SCORES, iou_threshold=0.3, sigma=0.5,
                          min_score=0.01, method=method)
    assert keep.tolist() == inds and keep.dtype == torch.int64
    torch.testing.assert_close(dets[:, :4], SOFT_NMS_BOXES[inds])
    torch.testing.assert_close(dets[:, 4], torch.tensor(scores))


@pytest.mark.parametrize('method', ['naive', 'linear', 'gaussian'])
@pytest.mark.parametrize('offset, min_score', [(0, 0.001), (1, 0.3), (0, 0.5)])
def test_soft_nms_matches_the_reference_with_ties_and_drops(method, offset, min_score):
    boxes = random_boxes(80, size=32.0)
    scores = (torch.rand(80) * 10).round() / 10 + 0.05  # many equal scores
    dets, keep = soft_nms(boxes, scores, iou_threshold=0.3, sigma=0.5, min_score=min_score,
                          method=method, offset=offset)
    ref_keep, ref_dets = reference_soft_nms(boxes, scores, 0.3, 0.5, min_score, method, offset)
    assert keep.tolist() == ref_keep
    torch.testing.assert_close(dets, torch.tensor(ref_dets), rtol=1e-5, atol=1e-6)
    assert (dets[:, 4] >= min_score).all()


@pytest.mark.parametrize('method', ['naive', 'linear', 'gaussian'])
@pytest.mark.parametrize('iou_threshold', [0.0, 0.5])
def test_soft_nms_matches_the_reference_on_degenerate_boxes(method, iou_threshold):
    """Boxes far apart (their IoU is 0, which a threshold of 0 counts as overlapping), a
    zero-area box and inverted ones (their IoU with others is -0 or 0). (Two zero-area boxes
    have IoU 0 / 0: NaN scores, which mmcv's loop never picks and an argmax picks first; left
    out.)"""
    boxes = random_boxes(300, size=400.0)
    boxes[0, 2] = boxes[0, 0]  # zero width
    boxes[6:12, 3] = boxes[6:12, 1] - 3.0  # inverted
    scores = (torch.rand(300) * 20).round() / 20 + 0.01
    scores[:12] = 0.05  # picked after regular boxes, so that those decay the boxes apart
    dets, keep = soft_nms(boxes, scores, iou_threshold=iou_threshold, sigma=0.5,
                          min_score=0.02, method=method)
    ref_keep, ref_dets = reference_soft_nms(boxes, scores, iou_threshold, 0.5, 0.02, method)
    assert keep.tolist() == ref_keep
    torch.testing.assert_close(dets, torch.tensor(ref_dets), rtol=1e-5, atol=1e-6)


def test_soft_nms_empty_input():
    dets, keep = soft_nms(torch.zeros(0, 4), torch.zeros(0), 0.3)
    assert keep.shape == (0, ) and dets.shape == (0, 5)


def test_batched_soft_nms_as_mmdet_calls_it():
    """mmdet's test_cfg ``nms=dict(type='soft_nms', ...)`` goes through batched_nms; its split
    path (many boxes, per class) gives the same result as the offset trick."""
    boxes, scores = random_boxes(300), torch.rand(300)
    classes = torch.randint(0, 4, (300, ))
    cfg = dict(type='soft_nms', iou_threshold=0.5, min_score=0.05)
    dets, keep = batched_nms(boxes, scores, classes, dict(cfg))
    split_dets, split_keep = batched_nms(boxes, scores, classes, dict(cfg, split_thr=100))
    assert torch.equal(keep, split_keep) and torch.equal(dets, split_dets)
    assert (dets[:, -1][1:] <= dets[:, -1][:-1]).all() and len(keep) > 0


def bilinear(feature, y, x):
    """Bilinear sample of a (C, H, W) map at one point, with mmcv's border rules; a sum of
    indexed values times weights, so autograd gives the reference gradient."""
    height, width = feature.shape[-2:]
    if y < -1.0 or y > height or x < -1.0 or x > width:
        return feature.new_zeros(feature.shape[0])
    y, x = max(y, 0.0), max(x, 0.0)
    y0, x0 = int(y), int(x)
    if y0 >= height - 1:
        y0 = y1 = height - 1
        y = float(y0)
    else:
        y1 = y0 + 1
    if x0 >= width - 1:
        x0 = x1 = width - 1
        x = float(x0)
    else:
        x1 = x0 + 1
    ly, lx = y - y0, x - x0
    hy, hx = 1 - ly, 1 - lx
    return (hy * hx * feature[:, y0, x0] + hy * lx * feature[:, y0, x1] +
            ly * hx * feature[:, y1, x0] + ly * lx * feature[:, y1, x1])


def reference_roi_align(features, rois, out_size, spatial_scale, sampling_ratio, aligned):
    """RoIAlign (average) as the Mask R-CNN paper describes it, one sample at a time."""
    out_h, out_w = out_size
    outputs = []
    for roi in rois.tolist():
        batch, box = int(roi[0]), [v * spatial_scale for v in roi[1:]]
        if aligned:
            box = [v - 0.5 for v in box]
        roi_w, roi_h = box[2] - box[0], box[3] - box[1]
        if not aligned:
            roi_w, roi_h = max(roi_w, 1.0), max(roi_h, 1.0)
        bin_h, bin_w = roi_h / out_h, roi_w / out_w
        grid_h = sampling_ratio if sampling_ratio > 0 else math.ceil(roi_h / out_h)
        grid_w = sampling_ratio if sampling_ratio > 0 else math.ceil(roi_w / out_w)
        count = max(grid_h * grid_w, 1)
        bins = []
        for ph in range(out_h):
            for pw in range(out_w):
                total = features.new_zeros(features.shape[1])
                for iy in range(grid_h):
                    y = box[1] + ph * bin_h + (iy + 0.5) * bin_h / grid_h
                    for ix in range(grid_w):
                        x = box[0] + pw * bin_w + (ix + 0.5) * bin_w / grid_w
                        total = total + bilinear(features[batch], y, x)
                bins.append(total / count)
        outputs.append(torch.stack(bins, dim=1).reshape(-1, out_h, out_w))
    if not outputs:
        return features.new_zeros(0, features.shape[1], out_h, out_w)
    return torch.stack(outputs)


def random_rois(num_images: int, n: int, size: float) -> torch.Tensor:
    boxes = random_boxes(n, size)
    boxes[0] = torch.tensor([-3.0, -2.0, size + 4, 5.0])  # crosses the border
    boxes[1] = torch.tensor([10.0, 10.0, 10.3, 10.2])  # smaller than a pixel
    batch = torch.randint(0, num_images, (n, 1)).float()
    return torch.cat([batch, boxes], dim=1)


@pytest.mark.parametrize('aligned', [False, True])
@pytest.mark.parametrize('sampling_ratio', [0, 2])
def test_roi_align_values_and_gradients(aligned, sampling_ratio):
    features = torch.randn(3, 4, 12, 14, dtype=torch.float64, requires_grad=True)
    rois = random_rois(num_images=3, n=9, size=40.0).double()
    args = ((3, 2), 0.25, sampling_ratio, 'avg', aligned)
    ours = roi_align(features, rois, *args)
    expected = reference_roi_align(features, rois, (3, 2), 0.25, sampling_ratio, aligned)
    torch.testing.assert_close(ours, expected, atol=1e-10, rtol=1e-8)

    weights = torch.randn_like(ours)
    grad_ours, = torch.autograd.grad((ours * weights).sum(), features)
    grad_ref, = torch.autograd.grad((expected * weights).sum(), features)
    torch.testing.assert_close(grad_ours, grad_ref, atol=1e-10, rtol=1e-8)
    assert grad_ours.abs().sum() > 0


def test_roi_align_float32_through_mmcv_module():
    from mmcv.ops import RoIAlign
    features = torch.randn(2, 8, 16, 16, requires_grad=True)
    rois = random_rois(num_images=2, n=6, size=60.0)
    layer = RoIAlign(output_size=7, spatial_scale=0.25, sampling_ratio=0, aligned=True)
    out = layer(features, rois)
    expected = reference_roi_align(features.double(), rois.double(), (7, 7), 0.25, 0, True)
    torch.testing.assert_close(out, expected.float(), atol=1e-5, rtol=1e-5)
    out.sum().backward()
    assert features.grad is not None and features.grad.shape == features.shape


def test_roi_align_empty_rois():
    features = torch.randn(2, 4, 8, 8, requires_grad=True)
    out = roi_align(features, torch.zeros(0, 5), (7, 7), 1.0, 0, 'avg', True)
    assert out.shape == (0, 4, 7, 7)
    out.sum().backward()
    assert torch.equal(features.grad, torch.zeros_like(features))


def test_roi_align_max_mode_is_a_clear_error():
    with pytest.raises(MissingKernelError, match="roi_align.*pool_mode='max'"):
        roi_align(torch.randn(1, 2, 8, 8), torch.tensor([[0.0, 1, 1, 5, 5]]), (2, 2), 1.0, 0,
                  'max', True)


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_roi_align_reduced_precision_through_mmcv_module(dtype):
    """bf16 maps (bf16 AMP) have no torchvision kernel, on CPU or CUDA; ours computes in fp32.
    Compared to float64 on the same maps and RoIs: within the output dtype's rounding (bf16 has
    8 bits of mantissa: 2e-2 relative; fp16 11 bits: 3e-3), values and gradients."""
    from mmcv.ops import RoIAlign
    features = torch.randn(2, 8, 16, 16).to(dtype).requires_grad_()
    rois = random_rois(num_images=2, n=6, size=60.0).to(dtype)
    layer = RoIAlign(output_size=7, spatial_scale=0.25, sampling_ratio=0, aligned=True)
    out = layer(features, rois)
    reference_features = features.detach().double().requires_grad_()
    expected = reference_roi_align(reference_features, rois.double(), (7, 7), 0.25, 0, True)
    tolerance = 2e-2 if dtype == torch.bfloat16 else 3e-3
    assert out.dtype == dtype
    torch.testing.assert_close(out.double(), expected, atol=tolerance, rtol=tolerance)
    weights = torch.randn_like(expected)
    (out * weights.to(dtype)).sum().backward()
    (expected * weights).sum().backward()
    assert features.grad.dtype == dtype
    torch.testing.assert_close(features.grad.double(), reference_features.grad, atol=tolerance,
                               rtol=tolerance)
