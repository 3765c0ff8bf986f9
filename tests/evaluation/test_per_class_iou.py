"""PerClassIoUMetric: mmseg's IoUMetric summary unchanged, plus each class's IoU."""
import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.evaluation import IoUMetric
from mmseg.structures import SegDataSample

from convnext_dense.evaluation.per_class_iou import PerClassIoUMetric

CLASSES = ('background', 'a', 'b', 'never')


def samples(rng):
    for _ in range(3):
        truth = torch.from_numpy(rng.integers(0, 3, (1, 16, 16)))  # 'never': in neither map
        truth[0, 0] = 255  # ignored
        pred = torch.where(torch.from_numpy(rng.random((1, 16, 16)) < 0.7), truth,
                           torch.from_numpy(rng.integers(0, 3, (1, 16, 16))))
        pred[pred == 255] = 0
        yield SegDataSample(gt_sem_seg=PixelData(data=truth),
                            pred_sem_seg=PixelData(data=pred)).to_dict()


def evaluate(metric, batch):
    metric.dataset_meta = dict(classes=CLASSES)
    metric.process([{}] * len(batch), batch)
    return metric.compute_metrics(metric.results)


def test_per_class_iou_beside_the_unchanged_summary():
    batch = list(samples(np.random.default_rng(0)))
    ours = evaluate(PerClassIoUMetric(iou_metrics=['mIoU']), batch)
    theirs = evaluate(IoUMetric(iou_metrics=['mIoU']), batch)
    assert {k: v for k, v in ours.items() if not k.startswith('IoU.')} == theirs
    truth = np.concatenate([s['gt_sem_seg']['data'].numpy().ravel() for s in batch])
    pred = np.concatenate([s['pred_sem_seg']['data'].numpy().ravel() for s in batch])
    pred, truth = pred[truth != 255], truth[truth != 255]
    for label, name in enumerate(CLASSES[:3]):
        union = np.sum((pred == label) | (truth == label))
        expected = 100 * np.sum((pred == label) & (truth == label)) / union
        assert ours[f'IoU.{name}'] == pytest.approx(expected, abs=0.006)
    assert np.isnan(ours['IoU.never'])  # neither labelled nor predicted
    assert ours['mIoU'] == pytest.approx(np.nanmean([ours[f'IoU.{n}'] for n in CLASSES]),
                                         abs=0.01)
