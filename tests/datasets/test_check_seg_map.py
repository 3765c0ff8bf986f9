"""CheckSegMap names the label file of a map that does not fit: values, channels, size."""
import numpy as np
import pytest

from convnext_dense.datasets import CheckSegMap
from convnext_dense.errors import DatasetError


def results(label, image_shape=(4, 6, 3), reduce_zero_label=True):
    return dict(gt_seg_map=label, seg_map_path='ann/a.png', img_path='img/a.jpg',
                img=np.zeros(image_shape, np.uint8), reduce_zero_label=reduce_zero_label)


def test_a_fitting_map_passes_unchanged():
    label = np.array([[0, 4, 255, 2, 1, 3]] * 4, np.uint8)
    assert CheckSegMap(num_classes=5)(results(label))['gt_seg_map'] is label


def test_an_inference_pipeline_without_labels_passes():
    image_only = dict(img=np.zeros((4, 6, 3), np.uint8), img_path='a.jpg')
    assert CheckSegMap(num_classes=5)(image_only) is image_only


@pytest.mark.parametrize('label, shape, message', [
    (np.full((4, 6), 199, np.uint8), (4, 6, 3),
     r'ann/a.png: label value\(s\) \[200\] in the file are not classes of this 150-class'),
    (np.zeros((4, 6, 3), np.uint8), (4, 6, 3), r'ann/a.png: label map of shape \(4, 6, 3\)'),
    (np.zeros((4, 5), np.uint8), (4, 6, 3),
     'ann/a.png: label map is 5 x 4 pixels, its image img/a.jpg 6 x 4'),
])
def test_a_map_that_does_not_fit_names_its_file(label, shape, message):
    with pytest.raises(DatasetError, match=message):
        CheckSegMap(num_classes=150)(results(label, shape))
