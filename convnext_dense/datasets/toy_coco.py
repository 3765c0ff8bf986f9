"""A toy COCO-format instance-segmentation dataset, generated on first use.

Layout under ``data_root``: ``train/*.png``, ``val/*.png``, ``annotations/{train,val}.json``
with boxes (x, y, w, h), polygon segmentations, areas and the four shape categories, written
atomically (see :mod:`..fileio`).
"""
import json
import os
from typing import Dict, Tuple

import cv2
import numpy as np
import mmdet.registry
from mmdet.datasets import CocoDataset
from pycocotools import mask as mask_utils

from ..registry import register
from .toy_scenes import (SHAPE_CLASSES, SHAPE_PALETTE, announce_toy_data, ensure_generated,
                         render_scene)

# split name -> (number of images, seed)
DEFAULT_SPLITS: Dict[str, Tuple[int, int]] = {'train': (240, 0), 'val': (60, 1)}
DEFAULT_IMAGE_SIZE = 160
# Each class has its colour family and surface pattern besides its outline: a detector trained
# from scratch on CPU learns them in minutes (see README, "The toy data").
SCENE_OPTIONS = dict(materials=40.0, class_colours=True)


def _coco_polygon_area(segmentation: list, size: int) -> float:
    # COCO's own rasterisation, so area ranges (small / medium / large) mean what COCO means.
    return float(mask_utils.area(mask_utils.merge(mask_utils.frPyObjects(segmentation, size,
                                                                         size))))


def _coco_split(directory: str, split: str, num_images: int, seed: int, size: int) -> dict:
    rng = np.random.default_rng(seed)
    os.makedirs(os.path.join(directory, split))
    images, annotations = [], []
    for image_id in range(num_images):
        image, objects = render_scene(rng, size, **SCENE_OPTIONS)
        file_name = f'{image_id:06d}.png'
        cv2.imwrite(os.path.join(directory, split, file_name), image[..., ::-1])
        images.append(dict(id=image_id, file_name=file_name, width=size, height=size))
        for obj in objects:
            segmentation = [np.round(obj.polygon, 2).flatten().tolist()]
            x0, y0 = obj.polygon.min(axis=0)
            x1, y1 = obj.polygon.max(axis=0)
            annotations.append(dict(
                id=len(annotations) + 1, image_id=image_id, category_id=obj.label + 1,
                bbox=[round(float(v), 2) for v in (x0, y0, x1 - x0, y1 - y0)],
                area=_coco_polygon_area(segmentation, size), iscrowd=0,
                segmentation=segmentation))
    categories = [dict(id=i + 1, name=name) for i, name in enumerate(SHAPE_CLASSES)]
    return dict(images=images, annotations=annotations, categories=categories)


def ensure_toy_coco(data_root: str, splits: Dict[str, Tuple[int, int]] = None,
                    image_size: int = DEFAULT_IMAGE_SIZE) -> str:
    """Writes the dataset to ``data_root`` unless it is there already; returns ``data_root``."""
    splits = splits or DEFAULT_SPLITS

    def fill(directory: str) -> None:
        announce_toy_data('COCO', data_root, splits)
        os.makedirs(os.path.join(directory, 'annotations'))
        for split, (num_images, seed) in splits.items():
            coco = _coco_split(directory, split, num_images, seed, image_size)
            with open(os.path.join(directory, 'annotations', f'{split}.json'), 'w') as f:
                json.dump(coco, f)

    manifest = dict(dataset='toy_coco', splits=splits, image_size=image_size,
                    scene=SCENE_OPTIONS)
    return ensure_generated(data_root, manifest, fill)


class ToyCocoDataset(CocoDataset):
    """mmdet's ``CocoDataset`` over the toy shapes, generating them into ``data_root`` first.

    Classes: ``circle, square, triangle, cross``. Takes CocoDataset's arguments plus
    ``toy_image_size`` (square images, default 160).
    """
    METAINFO = dict(classes=SHAPE_CLASSES, palette=SHAPE_PALETTE)

    def __init__(self, *args, toy_image_size: int = DEFAULT_IMAGE_SIZE, **kwargs):
        if not kwargs.get('data_root'):
            raise ValueError('ToyCocoDataset needs data_root: the directory to generate into.')
        ensure_toy_coco(kwargs['data_root'], image_size=toy_image_size)
        super().__init__(*args, **kwargs)


register([('DATASETS', ToyCocoDataset, (mmdet.registry, ))])
