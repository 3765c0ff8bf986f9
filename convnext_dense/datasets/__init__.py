from .toy_coco import ToyCocoDataset, ensure_toy_coco
from .toy_scenes import SHAPE_CLASSES, render_scene

__all__ = ['ToyCocoDataset', 'ensure_toy_coco', 'SHAPE_CLASSES', 'render_scene']
