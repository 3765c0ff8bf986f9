"""RoI feature extraction for mmdet's RoI heads (imported when a config builds it: it needs
mmdet's models)."""
from .roi_align_extractor import RoIAlignExtractor, geometry_dtype, roi_align_kernel

__all__ = ['RoIAlignExtractor', 'geometry_dtype', 'roi_align_kernel']
