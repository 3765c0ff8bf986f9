"""Mask R-CNN and Cascade Mask R-CNN from mmdet as one traceable graph, for ONNX export.

mmdet's modules do the work (preprocessing constants, backbone, neck, RPN head, anchor
generator, box coders, RoI extractors' level mapping, box and mask heads); what is written here
is what a trace cannot take from mmdet's predict path: its per-image Python loops and its
branches on how many boxes there are. Top-k, score filters and NMS are tensor operations whose
sizes are computed in the graph (ONNX ``TopK``, ``NonZero``, ``NonMaxSuppression``), so any
image size gives mmdet's answer.
"""
from typing import List, Sequence, Tuple

import torch
from torch import nn
from torchvision.ops import batched_nms

from .preprocess import GraphPreprocess, image_limits
from .roi_features import roi_features


def at_most(count: int, tensor: torch.Tensor) -> torch.Tensor:
    """``min(count, len(tensor))`` as a graph value (a constant would freeze the traced size)."""
    return torch.clamp(torch._shape_as_tensor(tensor)[0], max=count)


def clip_boxes(boxes: torch.Tensor, limits: torch.Tensor) -> torch.Tensor:
    """xyxy boxes (..., 4k) clipped to [0, W] x [0, H] (``limits`` = (W, H, W, H))."""
    limits = limits.repeat(boxes.shape[-1] // 4)
    return torch.minimum(boxes.clamp(min=0), limits)


def with_batch_index(boxes: torch.Tensor) -> torch.Tensor:
    """(K, 4) boxes of image 0 as (K, 5) RoIs."""
    return torch.cat([boxes.new_zeros((boxes.shape[0], 1)), boxes], dim=1)


class RoIStage(nn.Module):
    """One stage of an mmdet RoI head: its box branch and, where it has one, its mask branch."""

    def __init__(self, bbox_extractor, bbox_head, mask_extractor=None, mask_head=None):
        super().__init__()
        self.bbox_extractor, self.bbox_head = bbox_extractor, bbox_head
        self.mask_extractor, self.mask_head = mask_extractor, mask_head

    def boxes(self, features, rois) -> Tuple[torch.Tensor, torch.Tensor]:
        """Class logits (K, C + 1) and box deltas (K, 4 or 4C) for ``rois`` (K, 5)."""
        return self.bbox_head(roi_features(self.bbox_extractor, features, rois))

    def mask_probabilities(self, features, rois) -> torch.Tensor:
        """Sigmoid mask maps (K, C or 1, M, M) for ``rois`` (K, 5)."""
        return self.mask_head(roi_features(self.mask_extractor, features, rois)).sigmoid()


def roi_stages(roi_head) -> List[RoIStage]:
    """The stages of mmdet's ``StandardRoIHead`` (one) or ``CascadeRoIHead`` (``num_stages``)."""
    cascade = isinstance(roi_head.bbox_head, nn.ModuleList)
    count = roi_head.num_stages if cascade else 1

    def part(name, stage):
        module = getattr(roi_head, name, None)
        return module[stage] if cascade and module is not None else module

    stages = []
    for stage in range(count):
        bbox_extractor = part('bbox_roi_extractor', stage)
        mask_extractor = (bbox_extractor if getattr(roi_head, 'share_roi_extractor', False)
                          else part('mask_roi_extractor', stage))
        stages.append(RoIStage(bbox_extractor, part('bbox_head', stage),
                               mask_extractor if roi_head.with_mask else None,
                               part('mask_head', stage) if roi_head.with_mask else None))
    return stages


class TwoStageDetectorGraph(nn.Module):
    """An mmdet ``MaskRCNN`` / ``CascadeRCNN`` (``StandardRoIHead`` or ``CascadeRoIHead``, FCN
    mask head), image in, detections out, with the model's ``test_cfg``.

    Input ``image``: (1, 3, H, W) float32, 0-255, channels as the data pipeline loads them (BGR),
    any H and W (padded inside to the preprocessor's divisor).
    Outputs, best score first, N <= ``test_cfg.rcnn.max_per_img``:
    ``boxes`` (N, 4) xyxy in input pixels, ``scores`` (N,), ``labels`` (N,) int64, and
    ``masks`` (N, M, M) float: each instance's mask probabilities over its box (M = the mask
    head's size, 28), to be pasted into the image as mmdet pastes them.
    """

    output_names = ('boxes', 'scores', 'labels', 'masks')

    def __init__(self, detector):
        super().__init__()
        self.preprocess = GraphPreprocess.of_detector(detector.data_preprocessor)
        self.detector = detector
        self.stages = nn.ModuleList(roi_stages(detector.roi_head))
        self.rpn_cfg = detector.test_cfg.rpn
        self.rcnn_cfg = detector.test_cfg.rcnn

    def forward(self, image: torch.Tensor):
        limits = image_limits(image)
        features = self.detector.extract_feat(self.preprocess(image))
        proposals = self.proposals(features, limits)
        boxes, scores, labels = self.detections(features, proposals, limits)
        return boxes, scores, labels, self.masks(features, boxes, labels)

    def proposals(self, features: Sequence[torch.Tensor], limits: torch.Tensor) -> torch.Tensor:
        """RPN proposals (P, 4), as mmdet's ``RPNHead.predict_by_feat``: the top ``nms_pre`` of
        each level, decoded and clipped, small ones dropped, NMS per level, ``max_per_img``."""
        rpn_head, cfg = self.detector.rpn_head, self.rpn_cfg
        cls_scores, bbox_preds = rpn_head(features)
        priors = rpn_head.prior_generator.grid_priors(
            [score.shape[-2:] for score in cls_scores], dtype=cls_scores[0].dtype,
            device=cls_scores[0].device)
        level_boxes, level_scores, level_ids = [], [], []
        for level, (cls_score, bbox_pred, level_priors) in enumerate(
                zip(cls_scores, bbox_preds, priors)):
            logits = cls_score[0].permute(1, 2, 0).reshape(-1, rpn_head.cls_out_channels)
            scores = (logits.sigmoid() if rpn_head.use_sigmoid_cls
                      else logits.softmax(-1)[:, :-1]).reshape(-1)
            deltas = bbox_pred[0].permute(1, 2, 0).reshape(-1, rpn_head.bbox_coder.encode_size)
            if cfg.get('nms_pre', -1) > 0:
                scores, top = scores.topk(at_most(cfg.nms_pre, scores))
                deltas, level_priors = deltas[top], level_priors[top]
            level_boxes.append(rpn_head.bbox_coder.decode(level_priors, deltas))
            level_scores.append(scores)
            level_ids.append(torch.full_like(scores, level, dtype=torch.int64))
        boxes = clip_boxes(torch.cat(level_boxes), limits)
        scores, ids = torch.cat(level_scores), torch.cat(level_ids)
        if cfg.get('min_bbox_size', -1) >= 0:
            sizes = boxes[:, 2:] - boxes[:, :2]
            keep = torch.nonzero((sizes > cfg.min_bbox_size).all(dim=1)).squeeze(1)
            boxes, scores, ids = boxes[keep], scores[keep], ids[keep]
        keep = batched_nms(boxes, scores, ids, cfg.nms.iou_threshold)[:cfg.max_per_img]
        return boxes[keep]

    def detections(self, features, proposals: torch.Tensor, limits: torch.Tensor):
        """Boxes, scores and labels from the RoI head, as mmdet's ``predict_bbox``: each stage
        refines the boxes by the class it ranks first; the class scores are the softmax of the
        stages' mean logits; class-wise NMS, then the best ``max_per_img``."""
        rois = with_batch_index(proposals)
        stage_logits = []
        for index, stage in enumerate(self.stages):
            logits, deltas = stage.boxes(features, rois)
            stage_logits.append(logits)
            if index < len(self.stages) - 1:
                labels = logits[:, :-1].argmax(dim=1)
                refined = stage.bbox_head.regress_by_class(rois[:, 1:], labels, deltas,
                                                           {'img_shape': None})
                rois = with_batch_index(clip_boxes(refined, limits))
        scores = (sum(stage_logits) / len(stage_logits)).softmax(dim=-1)
        last_head = self.stages[-1].bbox_head
        boxes = clip_boxes(last_head.bbox_coder.decode(rois[:, 1:], deltas), limits)
        return self.class_wise_nms(boxes, scores)

    def class_wise_nms(self, boxes: torch.Tensor, scores: torch.Tensor):
        """mmdet's ``multiclass_nms``: ``boxes`` (K, 4 or 4C), ``scores`` (K, C + 1, the last
        background); every (box, class) above ``score_thr``, NMS within each class."""
        cfg = self.rcnn_cfg
        num_classes = scores.shape[1] - 1
        count = scores.shape[0]
        if boxes.shape[1] == 4:
            boxes = boxes[:, None].expand(count, num_classes, 4)
        boxes = boxes.reshape(-1, 4)
        scores = scores[:, :-1].reshape(-1)
        labels = torch.arange(num_classes, device=scores.device).repeat(count)
        keep = torch.nonzero(scores > cfg.score_thr).squeeze(1)
        boxes, scores, labels = boxes[keep], scores[keep], labels[keep]
        keep = batched_nms(boxes, scores, labels, cfg.nms.iou_threshold)[:cfg.max_per_img]
        return boxes[keep], scores[keep], labels[keep]

    def masks(self, features, boxes: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """(N, M, M) mask probabilities of each detection's class, averaged over the stages
        (mmdet's ``merge_aug_masks`` for cascades)."""
        rois = with_batch_index(boxes)
        probabilities = [stage.mask_probabilities(features, rois) for stage in self.stages]
        merged = sum(probabilities) / len(probabilities)
        if merged.shape[1] == 1:  # class-agnostic mask head
            return merged[:, 0]
        return merged[torch.arange(merged.shape[0], device=labels.device), labels]
