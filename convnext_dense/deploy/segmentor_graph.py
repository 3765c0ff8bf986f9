"""An mmseg ``EncoderDecoder`` (UperNet and the others) as one traceable graph, for ONNX export."""
import copy

import torch
from torch import nn

from ..errors import InputError
from .adaptive_pool import replace_adaptive_pooling
from .preprocess import GraphPreprocess


class SegmentorGraph(nn.Module):
    """An mmseg ``EncoderDecoder``, image in, per-pixel classes out, with its ``test_cfg``.

    Input ``image``: (B, 3, H, W) float32, 0-255, channels as the data pipeline loads them (BGR).
    Outputs: ``seg_logits`` (B, C, H, W), the decode head's logits resized to the input as
    mmseg's ``inference`` gives them, and ``labels`` (B, H, W) int64, their argmax.

    ``test_cfg.mode='whole'`` runs the model once on the whole image, at any size.
    UperNet's pyramid pooling runs as :class:`~.adaptive_pool.MatmulAdaptiveAvgPool2d`.
    ``'slide'`` runs mmseg's own ``slide_inference``, whose windows are laid out for one image
    size: such a graph is exported for a fixed size (``fixed_size=True``), anything else is
    refused.
    """

    output_names = ('seg_logits', 'labels')

    def __init__(self, segmentor, fixed_size: bool):
        super().__init__()
        mode = segmentor.test_cfg.get('mode', 'whole')
        if mode not in ('whole', 'slide'):
            raise InputError(f'test_cfg.mode={mode!r}: only "whole" and "slide" export.')
        if mode == 'slide' and not fixed_size:
            raise InputError('test_cfg.mode="slide" lays its windows out for one image size, so '
                             'it exports for a fixed --shape only; for any size export the '
                             'whole-image mode (--cfg-options model.test_cfg.mode=whole).')
        self.preprocess = GraphPreprocess.of_segmentor(segmentor.data_preprocessor)
        # A copy: the caller's model keeps its own modules.
        self.segmentor = copy.deepcopy(segmentor)
        replace_adaptive_pooling(self.segmentor)
        self.slide = mode == 'slide'

    def forward(self, image: torch.Tensor):
        height, width = image.shape[-2:]
        inputs = self.preprocess(image)
        metas = [dict(img_shape=inputs.shape[-2:], ori_shape=inputs.shape[-2:])]
        if self.slide:
            logits = self.segmentor.slide_inference(inputs, metas)
        else:
            logits = self.segmentor.encode_decode(inputs, metas)
        logits = logits[..., :height, :width]  # the preprocessor pads bottom and right
        return logits, logits.argmax(dim=1)
