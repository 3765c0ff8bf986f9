"""Registers our modules in the registries of the frameworks we plug into, so
``type='ConvNeXt'`` resolves under ``default_scope`` mmdet or mmseg, and under mmengine's root
registry for tools that set no scope (a scope's own ``ConvNeXt``, e.g. mmpretrain's, still wins
inside that scope)."""
from mmdet.registry import MODELS as MMDET_MODELS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmseg.registry import MODELS as MMSEG_MODELS

from .models import ConvNeXt

MODEL_REGISTRIES = (MMENGINE_MODELS, MMDET_MODELS, MMSEG_MODELS)


def register_all() -> None:
    """Idempotent: registers each module once per registry."""
    for registry in MODEL_REGISTRIES:
        if registry.module_dict.get('ConvNeXt') is not ConvNeXt:
            registry.register_module('ConvNeXt', module=ConvNeXt, force=True)
