"""What an exported ONNX file records about itself beyond its graph (JSON in the model's
``metadata_props``): the task, classes and palette, the post-processing constants that stay
outside the graph, and the input the graph expects."""
import json
from typing import Optional, Sequence

from mmengine.config import Config

from ..errors import InputError
from ..tasks import TASKS_BY_NAME, Task

METADATA_KEY = 'convnext_dense'


def export_metadata(cfg: Config, task: Task, dataset_meta: dict, shape: Sequence[int],
                    dynamic: bool) -> dict:
    """What a runtime needs besides the graph: task, classes and palette, the post-processing
    constants that stay outside the graph, and the input the graph expects."""
    metadata = dict(task=task.name, classes=list(dataset_meta['classes']),
                    palette=[list(c) for c in dataset_meta['palette']],
                    input=dict(layout='NCHW', channels='as loaded (BGR)', range='0-255',
                               shape=None if dynamic else list(shape)))
    metadata.update(task.export_constant_values(cfg))
    return metadata


def write_metadata(model, metadata: dict) -> None:
    """Records ``metadata`` in ``model`` (an ``onnx.ModelProto``), replacing an older record."""
    for entry in list(model.metadata_props):
        if entry.key == METADATA_KEY:
            model.metadata_props.remove(entry)
    entry = model.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, json.dumps(metadata)


def read_metadata(model, source: str) -> dict:
    """The metadata of ``model`` (an ``onnx.ModelProto`` read from ``source``), checked
    (:func:`check_metadata`); a file without it, or with metadata that is not what
    ``tools/export.py`` writes, is refused in one line naming the file."""
    for entry in model.metadata_props:
        if entry.key == METADATA_KEY:
            try:
                metadata = json.loads(entry.value)
            except json.JSONDecodeError as error:
                raise InputError(f'{source}: its {METADATA_KEY!r} metadata is not JSON '
                                 f'({error}); export the model again with tools/export.py.') \
                    from None
            check_metadata(metadata, source)
            return metadata
    raise InputError(f'{source}: not exported by tools/export.py (no {METADATA_KEY!r} '
                     f'metadata); export the model with tools/export.py.')


def _problem(metadata) -> Optional[str]:
    """What is wrong with ``metadata``'s structure, or None."""
    if not isinstance(metadata, dict):
        return f'a {type(metadata).__name__}, not an object'
    task, classes, palette = (metadata.get(k) for k in ('task', 'classes', 'palette'))
    if task not in TASKS_BY_NAME:
        return f'task {task!r} is neither {" nor ".join(map(repr, TASKS_BY_NAME))}'
    if not (isinstance(classes, list) and classes and all(isinstance(c, str) for c in classes)):
        return 'classes is not a non-empty list of names'
    if not (isinstance(palette, list) and len(palette) == len(classes) and all(
            isinstance(c, list) and len(c) == 3 and all(type(v) is int and 0 <= v <= 255
                                                      for v in c) for c in palette)):
        return (f'palette is not one RGB triple (0-255) per class ({len(classes)} '
                f'classes)')
    shape = (metadata.get('input') or {}).get('shape') \
        if isinstance(metadata.get('input'), dict) else 'missing'
    if shape is not None and not (isinstance(shape, list) and len(shape) == 2 and all(
            type(v) is int and v > 0 for v in shape)):
        return f'input.shape {shape!r} is not null or [height, width]'
    for name, types in TASKS_BY_NAME[task].export_constants.items():
        if not isinstance(metadata.get(name), types):
            return f'{name} is missing'
    return None


def check_metadata(metadata, source: str) -> None:
    """Refuses, in one line, metadata that is not what :func:`export_metadata` writes."""
    problem = _problem(metadata)
    if problem:
        raise InputError(f'{source}: its {METADATA_KEY!r} metadata is not what tools/export.py '
                         f'writes ({problem}); export the model again with tools/export.py.')


def check_fits_config(metadata: dict, num_classes: int, source: str) -> None:
    """Refuses, in one line, a model exported for another number of classes than the
    config's (whose dataset, metric and visualiser it would run with)."""
    classes = metadata['classes']
    if len(classes) != num_classes:
        shown = ', '.join(classes[:5]) + (', ...' if len(classes) > 5 else '')
        raise InputError(f'{source}: exported for {len(classes)} classes ({shown}), and the '
                         f'config has {num_classes}; use the config it was exported from, or '
                         f'export again from this one.')
