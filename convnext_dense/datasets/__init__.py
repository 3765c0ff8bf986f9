from .toy_ade20k import SEG_CLASSES, ToyADE20KDataset, ensure_toy_ade20k
from .toy_coco import ToyCocoDataset, ensure_toy_coco
from .toy_scenes import SHAPE_CLASSES, render_scene

__all__ = [
    'SEG_CLASSES', 'SHAPE_CLASSES', 'ToyADE20KDataset', 'ToyCocoDataset', 'ensure_toy_ade20k',
    'ensure_toy_coco', 'render_scene'
]
