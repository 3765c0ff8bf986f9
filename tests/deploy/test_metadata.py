"""What an exported file records about itself is read back as written; a file without it is
refused in one line naming it."""
import onnx
import pytest
from mmengine.config import Config

from convnext_dense.deploy.metadata import export_metadata, read_metadata, write_metadata
from convnext_dense.errors import InputError
from convnext_dense.tasks import DETECTION, SEGMENTATION


def empty_model() -> onnx.ModelProto:
    return onnx.helper.make_model(onnx.helper.make_graph([], 'empty', [], []))


def test_written_metadata_reads_back_and_replaces_an_older_record():
    model = empty_model()
    write_metadata(model, {'task': 'old'})
    write_metadata(model, {'task': 'detection', 'classes': ['a']})
    assert [entry.key for entry in model.metadata_props] == ['convnext_dense']
    assert read_metadata(model, 'm.onnx') == {'task': 'detection', 'classes': ['a']}


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
