"""mmseg's IoUMetric that also returns every class's IoU, so it is logged beside mIoU."""
from typing import Dict

import mmseg.registry
import numpy as np
from mmseg.evaluation import IoUMetric

from ..registry import register


class PerClassIoUMetric(IoUMetric):
    """:class:`mmseg.evaluation.IoUMetric` (same arguments, same printed table and summary
    metrics) whose results add ``IoU.<class name>`` in percent for every class of
    ``dataset_meta``: a labelled class never predicted shows as 0, a class neither labelled nor
    predicted as NaN (or ``nan_to_num``)."""

    def compute_metrics(self, results: list) -> Dict[str, float]:
        metrics = super().compute_metrics(results)
        if self.format_only or not results:
            return metrics
        intersect, union, pred_area, label_area = (sum(column) for column in zip(*results))
        ious = self.total_area_to_metrics(intersect, union, pred_area, label_area, ['mIoU'],
                                          self.nan_to_num, self.beta)['IoU']
        metrics.update({f'IoU.{name}': float(np.round(iou * 100, 2))
                        for name, iou in zip(self.dataset_meta['classes'], ious)})
        return metrics


register([('METRICS', PerClassIoUMetric, (mmseg.registry, ))])
