"""Robust loading and checking transforms, and the embedded toy COCO / ADE20K datasets.

The toy datasets subclass mmdet's / mmseg's datasets, whose packages are heavy to import, so they
load on first use: ``from convnext_dense.datasets import ToyCocoDataset``, or a config's
``custom_imports`` of ``convnext_dense.datasets.toy_coco`` / ``.toy_ade20k`` (which registers
them, as our toy runtime configs do).
"""
import importlib

from .check_seg_map import CheckSegMap
from .load_image_or_skip import LoadImageOrSkip

_LAZY = {
    'SEG_CLASSES': 'toy_ade20k', 'ToyADE20KDataset': 'toy_ade20k',
    'ensure_toy_ade20k': 'toy_ade20k', 'ToyCocoDataset': 'toy_coco',
    'ensure_toy_coco': 'toy_coco', 'SHAPE_CLASSES': 'toy_scenes', 'render_scene': 'toy_scenes',
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f'.{_LAZY[name]}', __name__), name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


__all__ = ['CheckSegMap', 'LoadImageOrSkip', *_LAZY]
