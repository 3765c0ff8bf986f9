"""A toy ADE20K-format semantic-segmentation dataset, generated on first use.

Layout under ``data_root`` (ADEChallengeData2016's): ``images/{training,validation}/*.png`` and
single-channel ``annotations/{training,validation}/*.png``. As in ADE20K, label 0 means
"unlabelled" (here a 1-pixel ring around every shape, where the class is ambiguous) and classes
are 1..K; with ``reduce_zero_label=True`` they become 0..K-1 and 0 becomes 255 (ignored).
Classes: background, then the four shapes, larger and more numerous than in the COCO toy set.
As in it, each shape class carries its colour family and surface pattern besides its outline
(:data:`SCENE_OPTIONS`): recognisable from local appearance, as ADE20K's classes are, which an
FCN trained from scratch learns in a few hundred iterations. With outlines alone (plain
uniform shapes) the model stayed at the background-only solution for 1500 iterations in our
runs; with the patterns alone, it found the shapes but named them all "circle" after 800.
"""
import os
from typing import Dict, Tuple

import cv2
import numpy as np
import mmseg.registry
from mmseg.datasets import BaseSegDataset

from ..registry import register
from .toy_scenes import (SHAPE_CLASSES, SHAPE_PALETTE, announce_toy_data, ensure_generated,
                         polygon_mask, render_scene)

SEG_CLASSES = ('background', ) + SHAPE_CLASSES
SEG_PALETTE = [(120, 120, 120)] + SHAPE_PALETTE
# ADE20K's split names -> (number of images, seed); seeds differ from the COCO toy set's.
DEFAULT_SPLITS: Dict[str, Tuple[int, int]] = {'training': (240, 10), 'validation': (60, 11)}
DEFAULT_IMAGE_SIZE = 160
UNLABELLED = 0
SCENE_OPTIONS = dict(max_objects=5, radius_range=(0.12, 0.28), materials=40.0,
                     class_colours=True)


def label_map(objects, size: int) -> np.ndarray:
    """(H, W) uint8 ADE-style labels: 1 background, 2.. shapes, 0 on each shape's outline."""
    labels = np.full((size, size), SEG_CLASSES.index('background') + 1, dtype=np.uint8)
    for obj in objects:
        mask = polygon_mask(obj.polygon, size, size)
        outline = cv2.dilate(mask, np.ones((3, 3), np.uint8)) - cv2.erode(
            mask, np.ones((3, 3), np.uint8))
        labels[mask.astype(bool)] = SEG_CLASSES.index(SHAPE_CLASSES[obj.label]) + 1
        labels[outline.astype(bool)] = UNLABELLED
    return labels


def _write_split(directory: str, split: str, num_images: int, seed: int, size: int) -> None:
    rng = np.random.default_rng(seed)
    image_dir = os.path.join(directory, 'images', split)
    label_dir = os.path.join(directory, 'annotations', split)
    os.makedirs(image_dir)
    os.makedirs(label_dir)
    for index in range(num_images):
        image, objects = render_scene(rng, size, **SCENE_OPTIONS)
        name = f'toy_{split}_{index:06d}.png'
        cv2.imwrite(os.path.join(image_dir, name), image[..., ::-1])
        cv2.imwrite(os.path.join(label_dir, name), label_map(objects, size))


def ensure_toy_ade20k(data_root: str, splits: Dict[str, Tuple[int, int]] = None,
                      image_size: int = DEFAULT_IMAGE_SIZE) -> str:
    """Writes the dataset to ``data_root`` unless it is there already; returns ``data_root``."""
    splits = splits or DEFAULT_SPLITS

    def fill(directory: str) -> None:
        announce_toy_data('ADE20K', data_root, splits)
        for split, (num_images, seed) in splits.items():
            _write_split(directory, split, num_images, seed, image_size)

    manifest = dict(dataset='toy_ade20k', splits=splits, image_size=image_size,
                    scene=SCENE_OPTIONS)
    return ensure_generated(data_root, manifest, fill)


class ToyADE20KDataset(BaseSegDataset):
    """mmseg dataset over the toy shapes in ADE20K's format, generated into ``data_root`` first.

    Classes (after ``reduce_zero_label``): background, circle, square, triangle, cross.
    Takes BaseSegDataset's arguments plus ``toy_image_size`` (default 160).
    """
    METAINFO = dict(classes=SEG_CLASSES, palette=SEG_PALETTE)

    def __init__(self, *args, toy_image_size: int = DEFAULT_IMAGE_SIZE,
                 reduce_zero_label: bool = True, **kwargs):
        if not kwargs.get('data_root'):
            raise ValueError('ToyADE20KDataset needs data_root: the directory to generate into.')
        ensure_toy_ade20k(kwargs['data_root'], image_size=toy_image_size)
        super().__init__(*args, img_suffix='.png', seg_map_suffix='.png',
                         reduce_zero_label=reduce_zero_label, **kwargs)


register([('DATASETS', ToyADE20KDataset, (mmseg.registry, ))])
