"""The toy COCO-format dataset: deterministic, valid COCO, generated once and atomically."""
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from mmdet.registry import DATASETS
from pycocotools.coco import COCO

from convnext_dense.datasets import SHAPE_CLASSES, ensure_toy_coco, render_scene
from convnext_dense.datasets.toy_scenes import polygon_mask

SMALL = {'train': (6, 0), 'val': (3, 1)}


def digest(root: Path) -> str:
    sha = hashlib.sha256()
    for path in sorted(root.rglob('*')):
        if path.is_file():
            sha.update(path.relative_to(root).as_posix().encode())
            sha.update(path.read_bytes())
    return sha.hexdigest()


def test_generation_is_deterministic(tmp_path):
    a = ensure_toy_coco(str(tmp_path / 'a'), SMALL, image_size=96)
    b = ensure_toy_coco(str(tmp_path / 'b'), SMALL, image_size=96)
    assert digest(Path(a)) == digest(Path(b))
    assert sorted(p.name for p in tmp_path.iterdir()) == ['a', 'b'], 'no staging dirs left'


def test_existing_dataset_is_not_rewritten(tmp_path):
    root = tmp_path / 'toy'
    ensure_toy_coco(str(root), SMALL, image_size=96)
    marker = root / 'annotations' / 'train.json'
    before = marker.stat().st_mtime_ns
    ensure_toy_coco(str(root), SMALL, image_size=96)
    assert marker.stat().st_mtime_ns == before


def test_annotations_are_valid_coco(tmp_path):
    root = Path(ensure_toy_coco(str(tmp_path / 'toy'), SMALL, image_size=96))
    coco = COCO(str(root / 'annotations' / 'train.json'))
    assert [c['name'] for c in coco.loadCats(coco.getCatIds())] == list(SHAPE_CLASSES)
    assert len(coco.getImgIds()) == 6 and len(coco.getAnnIds()) >= 6
    for ann in coco.loadAnns(coco.getAnnIds()):
        x, y, w, h = ann['bbox']
        assert 0 <= x and 0 <= y and x + w <= 96 and y + h <= 96 and w > 4 and h > 4
        mask = coco.annToMask(ann)
        ys, xs = np.nonzero(mask)
        assert abs(xs.min() - x) <= 1 and abs(ys.max() + 1 - (y + h)) <= 1
        assert ann['area'] == mask.sum()
    image = coco.loadImgs(0)[0]
    assert (root / 'train' / image['file_name']).is_file()


def test_objects_do_not_overlap_and_are_drawn():
    image, objects = render_scene(np.random.default_rng(3), 128, max_objects=4)
    masks = [polygon_mask(o.polygon, 128, 128).astype(bool) for o in objects]
    assert sum(m.sum() for m in masks) == np.logical_or.reduce(masks).sum()
    for mask in masks:  # each shape's colour differs from the pixels around it
        ring = np.logical_xor(np.pad(mask, 3)[3:-3, 6:], mask) & ~mask
        assert np.abs(image[mask].mean(0) - image[ring].mean(0)).sum() > 40


def test_dataset_generates_on_first_use(tmp_path):
    root = tmp_path / 'toy_coco'
    dataset = DATASETS.build(dict(type='ToyCocoDataset', data_root=str(root),
                                  ann_file='annotations/val.json', data_prefix=dict(img='val/'),
                                  toy_image_size=64, pipeline=[]))
    assert len(dataset) == 60 and dataset.metainfo['classes'] == SHAPE_CLASSES
    info = dataset[0]
    assert info['img_path'].startswith(str(root / 'val')) and info['instances']
    assert json.loads((root / 'annotations' / 'val.json').read_text())['images'][0]['width'] == 64


def test_dataset_without_data_root_is_a_clear_error():
    with pytest.raises(ValueError, match='data_root'):
        DATASETS.build(dict(type='ToyCocoDataset', ann_file='a.json', pipeline=[]))
