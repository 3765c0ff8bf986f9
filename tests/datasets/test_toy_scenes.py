"""Scene cues (class colours) and the generated-data manifest."""
import colorsys
import json
import os

import numpy as np
import pytest

from convnext_dense.datasets.toy_scenes import (MANIFEST, SHAPE_PALETTE, ensure_generated,
                                                polygon_mask, render_scene)
from convnext_dense.errors import DatasetError


def hue_distance(a: float, b: float) -> float:
    return min(abs(a - b), 1 - abs(a - b))


def test_class_colours_keep_each_class_in_its_hue_family_on_a_greyish_background():
    for seed in range(6):
        image, objects = render_scene(np.random.default_rng(seed), 128, class_colours=True,
                                      materials=40.0)
        occupied = np.zeros((128, 128), bool)
        for obj in objects:
            mask = polygon_mask(obj.polygon, 128, 128).astype(bool)
            occupied |= mask
            hue, saturation, _ = colorsys.rgb_to_hsv(*(np.median(image[mask], axis=0) / 255))
            palette_hue = colorsys.rgb_to_hsv(*(np.array(SHAPE_PALETTE[obj.label]) / 255))[0]
            assert hue_distance(hue, palette_hue) < 0.07 and saturation > 0.35
        background = np.median(image[~occupied], axis=0) / 255
        assert colorsys.rgb_to_hsv(*background)[1] < 0.3


def test_generated_data_is_reused_only_if_generated_the_same_way(tmp_path):
    calls = []

    def fill(directory):
        calls.append(directory)
        open(os.path.join(directory, 'image.png'), 'w').close()

    root = str(tmp_path / 'toy')
    manifest = dict(dataset='toy', splits={'train': (2, 0)}, scene=dict(materials=40.0))
    assert ensure_generated(root, manifest, fill) == root and len(calls) == 1
    assert json.load(open(os.path.join(root, MANIFEST)))['splits'] == {'train': [2, 0]}
    ensure_generated(root, manifest, fill)  # reused: the same tuples and all
    assert len(calls) == 1
    with pytest.raises(DatasetError, match=f'{root}: .*scene differ.*delete the directory'):
        ensure_generated(root, dict(manifest, scene=dict(materials=0.0)), fill)
    os.remove(os.path.join(root, MANIFEST))
    with pytest.raises(DatasetError, match=f'no readable {MANIFEST}'):
        ensure_generated(root, manifest, fill)
    assert os.path.isfile(os.path.join(root, 'image.png')) and len(calls) == 1  # never touched
