"""What a COCO annotation file must hold for mmdet to train and evaluate on it as the config
means, checked before a run starts (:func:`convnext_dense.engine.config.load_config`).

mmdet's ``CocoDataset`` drops some annotations without a word (boxes outside their image or
under 1 px, non-positive areas, unknown category ids, polygons under 3 points) and crashes on
others far from the cause (an empty ``segmentation`` of a training instance: ``KeyError:
'mask'``; a malformed polygon in the validation set: pycocotools' "input type is not
supported"; config classes missing from the file: "need at least one array to concatenate").
:func:`audit_coco` raises :class:`~convnext_dense.errors.DatasetError` for the second kind and
returns one line per kind of the first, with counts and annotation ids.
"""
import math
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

from ..errors import DatasetError

MAX_IDS_LISTED = 5


def _ids(ids: List) -> str:
    shown = ', '.join(str(i) for i in ids[:MAX_IDS_LISTED])
    return f'{shown}, ...' if len(ids) > MAX_IDS_LISTED else shown


def _check_classes(content: dict, path: str, classes: Optional[Sequence[str]]) -> set:
    """The category ids of the config's ``classes`` (every id if the config names none)."""
    categories = {c.get('name'): c.get('id') for c in content.get('categories') or []}
    if not classes:
        return set(categories.values())
    missing = [name for name in classes if name not in categories]
    if missing:
        raise DatasetError(f'{path}: the config\'s classes {missing} are not category names '
                           f'of this file (it has {sorted(categories)[:20]}); set '
                           f'metainfo=dict(classes=...) to the file\'s names.')
    return {categories[name] for name in classes}


def _box_problem(ann: dict, image: dict) -> Optional[str]:
    """Why mmdet would drop the annotation's box (None: kept); raises for malformed boxes."""
    box = ann.get('bbox')
    if not isinstance(box, (list, tuple)) or len(box) != 4 or \
            not all(isinstance(v, (int, float)) for v in box):
        return 'fatal:malformed bbox (not 4 numbers)'
    if not all(math.isfinite(v) for v in box):
        return 'fatal:non-finite bbox values'
    x, y, w, h = box
    inside_w = max(0, min(x + w, image.get('width', 0)) - max(x, 0))
    inside_h = max(0, min(y + h, image.get('height', 0)) - max(y, 0))
    if inside_w * inside_h == 0:
        return 'box outside its image or of zero size'
    if not ann.get('area', 0) > 0 or w < 1 or h < 1:
        return 'non-positive area or a box side under 1 px'
    return None


def _mask_problem(ann: dict) -> Optional[str]:
    segmentation = ann.get('segmentation')
    if isinstance(segmentation, dict):  # RLE
        return None
    if not segmentation:
        return 'fatal:no segmentation (an empty or missing polygon list)'
    if not isinstance(segmentation, list) or any(
            not isinstance(p, list) or len(p) < 6 or len(p) % 2 for p in segmentation):
        return 'polygon with under 3 points (or an odd number of coordinates)'
    return None


def audit_coco(content: dict, path: str, classes: Optional[Sequence[str]],
               needs_masks: bool, training: bool) -> List[str]:
    """Raises :class:`DatasetError` naming ``path``, the problem and annotation ids for what
    would crash or mislabel the run; returns a line per kind of annotation mmdet drops
    silently (its count and ids). In a validation / test set (``training=False``) malformed
    polygons are fatal too: pycocotools fails on them when scoring masks."""
    images = {image.get('id'): image for image in content.get('images') or []}
    category_ids = {c.get('id') for c in content.get('categories') or []}
    selected = _check_classes(content, path, classes)
    problems: Dict[str, List] = defaultdict(list)
    for ann in content.get('annotations') or []:
        if ann.get('ignore', False):
            continue
        ann_id = ann.get('id')
        if ann.get('image_id') not in images:
            problems['annotation of an image id the file does not list'].append(ann_id)
            continue
        problem = _box_problem(ann, images[ann['image_id']])
        if problem is None and ann.get('category_id') not in category_ids:
            problem = 'unknown category id'
        if problem is None and ann.get('category_id') not in selected:
            continue  # a category the config leaves out: dropped by design
        if problem is None and needs_masks and not ann.get('iscrowd', False):
            problem = _mask_problem(ann)
            if problem and not training and not problem.startswith('fatal:'):
                problem = 'fatal:' + problem
        if problem:
            problems[problem].append(ann_id)
    fatal = {k[len('fatal:'):]: v for k, v in problems.items() if k.startswith('fatal:')}
    if fatal:
        described = '; '.join(f'{len(v)} with {k}: ids {_ids(v)}' for k, v in fatal.items())
        raise DatasetError(f'{path}: annotations mmdet cannot use: {described}.')
    return [f'{path}: {len(v)} annotation(s) with {k}, which mmdet ignores: ids {_ids(v)}'
            for k, v in problems.items()]
