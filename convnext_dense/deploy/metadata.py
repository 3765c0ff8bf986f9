"""What an exported ONNX file records about itself beyond its graph (JSON in the model's
``metadata_props``): the task, classes and palette, the post-processing constants that stay
outside the graph, and the input the graph expects."""
import json
from typing import Sequence

from mmengine.config import Config

from ..errors import InputError
from ..tasks import DETECTION, Task

METADATA_KEY = 'convnext_dense'


def export_metadata(cfg: Config, task: Task, dataset_meta: dict, shape: Sequence[int],
                    dynamic: bool) -> dict:
    """What a runtime needs besides the graph: task, classes and palette, the post-processing
    constants that stay outside the graph, and the input the graph expects."""
    metadata = dict(task=task.name, classes=list(dataset_meta['classes']),
                    palette=[list(c) for c in dataset_meta['palette']],
                    input=dict(layout='NCHW', channels='as loaded (BGR)', range='0-255',
                               shape=None if dynamic else list(shape)))
    if task is DETECTION:
        metadata['mask_thr_binary'] = float(cfg.model.test_cfg.rcnn.mask_thr_binary)
    else:
        metadata['align_corners'] = bool(cfg.model.decode_head.get('align_corners', False))
    return metadata


def write_metadata(model, metadata: dict) -> None:
    """Records ``metadata`` in ``model`` (an ``onnx.ModelProto``), replacing an older record."""
    for entry in list(model.metadata_props):
        if entry.key == METADATA_KEY:
            model.metadata_props.remove(entry)
    entry = model.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, json.dumps(metadata)


def read_metadata(model, source: str) -> dict:
    """The metadata of ``model`` (an ``onnx.ModelProto`` read from ``source``); a file without
    it is refused in one line."""
    for entry in model.metadata_props:
        if entry.key == METADATA_KEY:
            return json.loads(entry.value)
    raise InputError(f'{source}: not exported by tools/export.py (no {METADATA_KEY!r} '
                     f'metadata); export the model with tools/export.py.')
