"""A check of each semantic-segmentation label map as it is loaded, naming the file.

mmseg fails far from the cause on label maps that do not fit the model: a value above the
class count ends in ``IndexError: Target 199 is out of bounds`` inside the loss, an RGB label
PNG or one of another size than its image in a stacking or mask-shape error, none of which
names the file (and a validation set scores such values silently wrong).
"""
import numpy as np
from mmcv.transforms import BaseTransform

from ..errors import DatasetError


class CheckSegMap(BaseTransform):
    """Raises :class:`~convnext_dense.errors.DatasetError` naming the label file if its map
    (``results['gt_seg_map']``, (H, W) class indices) has more than one channel, differs in
    size from ``results['img']``, or holds values outside ``0 .. num_classes - 1`` other than
    ``ignore_index``. Goes right after ``LoadAnnotations``; values are checked as loaded
    (after ``reduce_zero_label``), and named as they are in the file. Returns ``results``
    unchanged (also when there is no label map: inference pipelines have none)."""

    def __init__(self, num_classes: int, ignore_index: int = 255):
        self.num_classes = num_classes
        self.ignore_index = ignore_index

    def transform(self, results: dict) -> dict:
        if 'gt_seg_map' not in results:  # mmseg's inference APIs drop LoadAnnotations
            return results
        label = results['gt_seg_map']
        path = results.get('seg_map_path')
        if label.ndim != 2:
            raise DatasetError(f'{path}: label map of shape {label.shape}; expected one channel '
                               f'of class indices (is it a colour PNG?).')
        image = results.get('img')
        if image is not None and image.shape[:2] != label.shape:
            raise DatasetError(f'{path}: label map is {label.shape[1]} x {label.shape[0]} '
                               f'pixels, its image {results.get("img_path")} '
                               f'{image.shape[1]} x {image.shape[0]}.')
        bad = np.unique(label[(label >= self.num_classes) & (label != self.ignore_index)])
        if bad.size:
            shift = 1 if results.get('reduce_zero_label') else 0
            in_file = [int(v) + shift for v in bad[:10]]
            raise DatasetError(
                f'{path}: label value(s) {in_file} in the file are not classes of this '
                f'{self.num_classes}-class dataset (valid: {shift} .. '
                f'{self.num_classes - 1 + shift}, or {self.ignore_index} to ignore'
                f'{", with reduce_zero_label" if shift else ""}).')
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(num_classes={self.num_classes}, '
                f'ignore_index={self.ignore_index})')
