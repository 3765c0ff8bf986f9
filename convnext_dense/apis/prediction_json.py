"""Predictions as JSON-ready dicts (what ``tools/infer.py`` writes beside each picture).

Detection: ``{"image", "height", "width", "score_thr", "instances": [{"label", "class",
"score", "bbox": [x1, y1, x2, y2] (pixels), "mask": COCO RLE {"size": [H, W], "counts"}}]}``,
instances above ``score_thr``, highest score first. (``tools/infer.py`` makes a huge image's
masks at a reduced scale: their size is then the image's times ``"mask_scale"``.)
Segmentation: ``{"image", "height", "width", "classes": [{"label", "class", "pixels",
"fraction"}]}`` for every class present, largest first (the label map itself is a PNG).
"""
from typing import Sequence

import numpy as np
import pycocotools.mask as mask_utils
from mmengine.structures import BaseDataElement


def detection_to_json(sample: BaseDataElement, classes: Sequence[str], image: str,
                      score_thr: float) -> dict:
    """mmdet's ``DetDataSample`` (``pred_instances``) as a dict; see the module doc."""
    instances = sample.pred_instances
    height, width = sample.metainfo['ori_shape'][:2]
    order = instances.scores.argsort(descending=True)
    kept = [int(i) for i in order if float(instances.scores[i]) >= score_thr]
    masks = instances.masks.cpu().numpy() if 'masks' in instances else None
    records = []
    for i in kept:
        label = int(instances.labels[i])
        record = dict(label=label, score=round(float(instances.scores[i]), 5),
                      bbox=[round(float(v), 2) for v in instances.bboxes[i]])
        record['class'] = classes[label] if label < len(classes) else str(label)
        if masks is not None:
            rle = mask_utils.encode(np.asfortranarray(masks[i].astype(np.uint8)))
            record['mask'] = dict(size=[int(s) for s in rle['size']],
                                  counts=rle['counts'].decode('ascii'))
        records.append(record)
    return dict(image=image, height=int(height), width=int(width), score_thr=score_thr,
                instances=records)


def segmentation_to_json(sample: BaseDataElement, classes: Sequence[str], image: str) -> dict:
    """mmseg's ``SegDataSample`` (``pred_sem_seg``) as a dict; see the module doc."""
    labels = sample.pred_sem_seg.data[0].cpu().numpy()
    values, counts = np.unique(labels, return_counts=True)
    present = sorted(zip(values.tolist(), counts.tolist()), key=lambda item: -item[1])
    return dict(image=image, height=int(labels.shape[0]), width=int(labels.shape[1]),
                classes=[dict(label=int(label), pixels=int(count),
                              fraction=round(count / labels.size, 5),
                              **{'class': classes[label] if label < len(classes) else str(label)})
                         for label, count in present])
