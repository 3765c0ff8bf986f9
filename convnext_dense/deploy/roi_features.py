"""mmdet's ``SingleRoIExtractor`` without its data-dependent branch, on torchvision's RoIAlign.

mmdet skips a pyramid level that no RoI maps to (``if inds.numel() > 0``): a trace would keep
whichever branch its example input took. Here every level runs on the RoIs mapped to it (possibly
none), and torchvision's ``roi_align`` exports to ONNX's standard ``RoiAlign`` (opset 16 and later
give mmcv's ``aligned=True`` as ``coordinate_transformation_mode='half_pixel'``), where mmcv's own
symbolic targets opsets before 16.
"""
from typing import Sequence

import torch
from torchvision.ops import roi_align

from ..errors import InputError


def roi_features(extractor, features: Sequence[torch.Tensor], rois: torch.Tensor) -> torch.Tensor:
    """The RoI features ``extractor`` (mmdet ``SingleRoIExtractor``, RoIAlign layers) gives for
    ``rois`` (K, 5: batch index, x1, y1, x2, y2) on ``features`` (its pyramid levels):
    (K, C, h, w), the same values as ``extractor(features, rois)``."""
    features = features[:extractor.num_inputs]
    layers = extractor.roi_layers
    size = tuple(layers[0].output_size)
    levels = extractor.map_roi_levels(rois, len(features))
    pooled = rois.new_zeros((rois.shape[0], extractor.out_channels) + size)
    for level, (feature, layer) in enumerate(zip(features, layers)):
        if layer.pool_mode != 'avg':
            raise InputError(f'RoIAlign pool_mode {layer.pool_mode!r}: only "avg" exports to '
                             f'ONNX RoiAlign with the same values.')
        inds = torch.nonzero(levels == level).squeeze(1)
        level_feats = roi_align(feature, rois[inds], size, layer.spatial_scale,
                                layer.sampling_ratio, layer.aligned)
        pooled = pooled.index_put((inds, ), level_feats)
    return pooled
