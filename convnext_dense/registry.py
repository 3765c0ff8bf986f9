"""Registers our modules in the registries of the frameworks we plug into (mmdet, mmseg), so
``type='ConvNeXt'`` resolves under either ``default_scope``."""
from mmdet.registry import MODELS as MMDET_MODELS
from mmseg.registry import MODELS as MMSEG_MODELS

from .models import ConvNeXt

MODEL_REGISTRIES = (MMDET_MODELS, MMSEG_MODELS)


def register_all() -> None:
    """Idempotent: registers each module once per registry."""
    for registry in MODEL_REGISTRIES:
        if registry.module_dict.get('ConvNeXt') is not ConvNeXt:
            registry.register_module('ConvNeXt', module=ConvNeXt, force=True)
