"""What an exported file records about itself is read back as written; a file without it is
refused in one line naming it."""
import re

import onnx
import pytest
from mmengine.config import Config

from convnext_dense.deploy.metadata import (check_fits_config, export_metadata, read_metadata,
                                            write_metadata)
from convnext_dense.errors import InputError
from convnext_dense.tasks import DETECTION, SEGMENTATION


def empty_model() -> onnx.ModelProto:
    return onnx.helper.make_model(onnx.helper.make_graph([], 'empty', [], []))


def detector_metadata(classes=('a', 'b')) -> dict:
    meta = dict(classes=classes, palette=[(1, 2, 3)] * len(classes))
    detector = Config(dict(model=dict(test_cfg=dict(rcnn=dict(mask_thr_binary=0.4)))))
    return export_metadata(detector, DETECTION, meta, (160, 192), dynamic=False)


def test_written_metadata_reads_back_and_replaces_an_older_record():
    model = empty_model()
    write_metadata(model, {'task': 'old'})
    write_metadata(model, detector_metadata())
    assert [entry.key for entry in model.metadata_props] == ['convnext_dense']
    assert read_metadata(model, 'm.onnx') == detector_metadata()


def broken(change):
    metadata = detector_metadata()
    change(metadata)
    return metadata


@pytest.mark.parametrize('metadata, expected', [
    (broken(lambda m: m.update(task='tracking')), "task 'tracking' is neither"),
    (broken(lambda m: m.update(classes=[])), 'classes is not a non-empty list'),
    (broken(lambda m: m.update(palette=[[1, 2, 3]])), 'palette is not one RGB triple'),
    (broken(lambda m: m['palette'].__setitem__(0, [1, 2, 300])), 'palette is not one RGB'),
    (broken(lambda m: m['input'].update(shape=[160])), 'input.shape [160] is not null'),
    (broken(lambda m: m.pop('mask_thr_binary')), 'mask_thr_binary is missing'),
    ([1, 2], 'a list, not an object'),
])
def test_metadata_other_than_what_export_writes_is_refused_by_name(metadata, expected):
    model = empty_model()
    write_metadata(model, metadata)
    with pytest.raises(InputError, match=r"^m\.onnx: its 'convnext_dense' metadata is not what "
                       r"tools/export.py writes \(" + re.escape(expected)):
        read_metadata(model, 'm.onnx')


def test_metadata_that_is_not_json_is_refused_by_name():
    model = empty_model()
    write_metadata(model, {})
    model.metadata_props[0].value = '{"task": "detection", "classes": ["a"], oops}'
    with pytest.raises(InputError, match=r"^m\.onnx: its 'convnext_dense' metadata is not JSON"):
        read_metadata(model, 'm.onnx')


def test_a_model_of_other_classes_than_the_config_is_refused():
    with pytest.raises(InputError, match=r'm\.onnx: exported for 1 classes \(person\), and the '
                       r'config has 4'):
        check_fits_config(detector_metadata(('person', )), 4, 'm.onnx')
    check_fits_config(detector_metadata(('a', 'b', 'c', 'd')), 4, 'm.onnx')


def test_a_file_without_metadata_is_refused_by_name():
    with pytest.raises(InputError, match='other.onnx: not exported by tools/export.py'):
        read_metadata(empty_model(), 'other.onnx')


def test_records_the_constants_applied_outside_the_graph():
    meta = dict(classes=('a', 'b'), palette=[(1, 2, 3), (4, 5, 6)])
    detector = Config(dict(model=dict(test_cfg=dict(rcnn=dict(mask_thr_binary=0.4)))))
    recorded = export_metadata(detector, DETECTION, meta, (160, 192), dynamic=False)
    assert recorded['mask_thr_binary'] == 0.4 and recorded['input']['shape'] == [160, 192]
    assert recorded['classes'] == ['a', 'b'] and recorded['palette'][1] == [4, 5, 6]
    segmentor = Config(dict(model=dict(decode_head=dict(align_corners=True))))
    recorded = export_metadata(segmentor, SEGMENTATION, meta, (160, 192), dynamic=True)
    assert recorded['align_corners'] is True and recorded['input']['shape'] is None
