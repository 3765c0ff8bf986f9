"""The COCO audit against mmdet's own parsing: what CocoDataset drops silently is counted with
its ids; what would crash or mislabel a run is refused naming the file and ids."""
import copy

import pytest

from convnext_dense.datasets.coco_audit import audit_coco
from convnext_dense.errors import DatasetError

CLASSES = ('circle', 'square')
SQUARE = [[10.0, 10.0, 40.0, 10.0, 40.0, 40.0, 10.0, 40.0]]


def annotation(ann_id, **changes):
    record = dict(id=ann_id, image_id=1, category_id=1, bbox=[10.0, 10.0, 30.0, 30.0],
                  area=900.0, iscrowd=0, segmentation=copy.deepcopy(SQUARE))
    record.update(changes)
    return record


def coco(*annotations):
    return dict(images=[dict(id=1, file_name='a.png', width=100, height=100)],
                categories=[dict(id=1, name='circle'), dict(id=2, name='square')],
                annotations=list(annotations))


def audit(content, training=True, classes=CLASSES):
    return audit_coco(content, 'ann.json', classes, needs_masks=True, training=training)


def test_a_clean_file_reports_nothing():
    assert audit(coco(annotation(1), annotation(2, category_id=2))) == []


def test_what_mmdet_drops_is_counted_with_ids_once_per_kind():
    lines = audit(coco(annotation(1), annotation(12, bbox=[10, 10, 0, 5]),
                       annotation(40, bbox=[10, 10, -3, 5]), annotation(41, area=0),
                       annotation(50, bbox=[200, 200, 10, 10]), annotation(60, category_id=9),
                       annotation(70, segmentation=[[1.0, 2.0, 3.0, 4.0]]),
                       annotation(80, image_id=5)))
    assert sorted(lines) == sorted([
        'ann.json: 3 annotation(s) with box outside its image or of zero size, which mmdet '
        'ignores: ids 12, 40, 50',
        'ann.json: 1 annotation(s) with non-positive area or a box side under 1 px, which mmdet '
        'ignores: ids 41',
        'ann.json: 1 annotation(s) with unknown category id, which mmdet ignores: ids 60',
        'ann.json: 1 annotation(s) with polygon with under 3 points (or an odd number of '
        'coordinates), which mmdet ignores: ids 70',
        'ann.json: 1 annotation(s) with annotation of an image id the file does not list, which '
        'mmdet ignores: ids 80',
    ])


def test_categories_the_config_leaves_out_are_not_reported():
    assert audit(coco(annotation(1), annotation(2, category_id=2)), classes=('circle', )) == []


@pytest.mark.parametrize('bad, training, message', [
    (dict(segmentation=[]), True, '1 with no segmentation'),
    (dict(segmentation=[[5.0, 5.0]]), False, '1 with polygon with under 3 points'),
    (dict(bbox=[1, 2, float('inf'), 4]), True, '1 with non-finite bbox values'),
    (dict(bbox=[1, 2, 3]), True, '1 with malformed bbox'),
])
def test_what_would_crash_is_refused_with_ids(bad, training, message):
    with pytest.raises(DatasetError, match=rf'ann.json: annotations mmdet cannot use: '
                                           rf'{message}.*ids 7'):
        audit(coco(annotation(1), annotation(7, **bad)), training=training)


def test_config_classes_missing_from_the_file_are_named():
    with pytest.raises(DatasetError, match=r"classes \['disc'\] are not category names.*"
                                           r"\['circle', 'square'\]"):
        audit(coco(annotation(1)), classes=('circle', 'disc'))


def test_crowd_annotations_keep_their_rle():
    crowd = annotation(3, iscrowd=1, segmentation=dict(counts='abc', size=[100, 100]))
    assert audit(coco(annotation(1), crowd), training=False) == []
