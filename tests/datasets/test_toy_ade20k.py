"""The toy ADE20K-format dataset: ADE's label conventions, deterministic, loadable by mmseg."""
import hashlib
from pathlib import Path

import numpy as np
import pytest
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

from convnext_dense.datasets import SEG_CLASSES, SHAPE_CLASSES, ensure_toy_ade20k
from convnext_dense.datasets.toy_ade20k import UNLABELLED, label_map
from convnext_dense.datasets.toy_scenes import material_pattern, polygon_mask, render_scene

SMALL = {'training': (4, 10), 'validation': (2, 11)}


def test_labels_follow_ade20k_conventions():
    _, objects = render_scene(np.random.default_rng(5), 96)
    labels = label_map(objects, 96)
    assert set(np.unique(labels)) <= set(range(len(SEG_CLASSES) + 1))
    assert (labels == 1).mean() > 0.3  # background is class 1, as ADE's classes start at 1
    for obj in objects:
        inside = polygon_mask(obj.polygon, 96, 96).astype(bool)
        values, counts = np.unique(labels[inside], return_counts=True)
        majority = values[counts.argmax()]
        assert SEG_CLASSES[majority - 1] != 'background'
        assert set(values) <= {majority, UNLABELLED}  # only the outline is unlabelled


def test_generation_is_deterministic(tmp_path):
    digests = []
    for name in ('a', 'b'):
        root = Path(ensure_toy_ade20k(str(tmp_path / name), SMALL, image_size=64))
        files = sorted(p for p in root.rglob('*.png'))
        assert len(files) == 12
        digests.append(hashlib.sha256(b''.join(p.read_bytes() for p in files)).hexdigest())
    assert digests[0] == digests[1]


def test_dataset_loads_with_reduce_zero_label(tmp_path):
    init_default_scope('mmseg')  # as the configs' default_scope: mmseg's LoadAnnotations
    dataset = DATASETS.build(dict(
        type='ToyADE20KDataset', data_root=str(tmp_path / 'toy'), toy_image_size=64,
        data_prefix=dict(img_path='images/validation', seg_map_path='annotations/validation'),
        pipeline=[dict(type='LoadAnnotations', reduce_zero_label=True)]))
    assert len(dataset) == 60 and dataset.metainfo['classes'] == SEG_CLASSES
    raw = dataset.get_data_info(0)
    assert raw['seg_map_path'].endswith('.png') and raw['reduce_zero_label']
    loaded = dataset[0]['gt_seg_map']
    assert set(np.unique(loaded)) <= {0, 1, 2, 3, 4, 255}
    assert 255 in loaded and 0 in loaded  # outlines ignored, background is class 0


def test_dataset_without_data_root_is_a_clear_error():
    with pytest.raises(ValueError, match='data_root'):
        DATASETS.build(dict(type='ToyADE20KDataset', pipeline=[]))


def test_materials_change_only_the_shapes_and_differ_by_class():
    plain, objects = render_scene(np.random.default_rng(8), 128)
    textured, same_objects = render_scene(np.random.default_rng(8), 128, materials=40.0)
    assert [o.label for o in objects] == [o.label for o in same_objects]
    inside = np.logical_or.reduce([polygon_mask(o.polygon, 128, 128).astype(bool)
                                   for o in objects])
    changed = np.abs(plain.astype(int) - textured.astype(int)).sum(-1) > 0
    assert changed[inside].mean() > 0.5 and not changed[~inside].any()
    patterns = [material_pattern(label, np.array([64.0, 64.0]), 64)
                for label in range(len(SHAPE_CLASSES))]
    for i in range(len(patterns)):
        for j in range(i + 1, len(patterns)):
            assert np.abs(patterns[i] - patterns[j]).mean() > 0.3
