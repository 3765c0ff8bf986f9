"""Registers our modules in the registries of the frameworks we plug into.

Each goes into mmengine's root registry and mmdet's and mmseg's child registries, so
``type='ConvNeXt'`` (etc.) resolves under ``default_scope`` mmdet or mmseg and for tools that
set no scope; a scope's own module of the same name (e.g. mmpretrain's ConvNeXt) still wins
inside that scope. The toy datasets register themselves when their modules are imported (see
:mod:`convnext_dense.datasets`), which keeps mmdet's / mmseg's dataset packages out of
``import convnext_dense``.
"""
from typing import Callable, List, Tuple

import mmdet.registry
import mmengine.registry
import mmseg.registry

from .datasets.check_seg_map import CheckSegMap
from .datasets.load_image_or_skip import LoadImageOrSkip
from .deploy import OnnxRuntimeDetector, OnnxRuntimeSegmentor
from .engine.hooks import ALL_HOOKS
from .engine.optim import ConvNeXtLayerDecayOptimizerConstructor
from .engine.runner import SafeLoadingRunner
from .checkpoint import register_atomic_backend
from .models import ConvNeXt

ALL_SCOPES = (mmengine.registry, mmdet.registry, mmseg.registry)
DETECTION_SCOPES = (mmengine.registry, mmdet.registry)
Registration = Tuple[str, Callable, tuple]


def RoIAlignExtractor(**kwargs):
    """Builds :class:`convnext_dense.models.roi_extractors.RoIAlignExtractor`: mmdet's models
    are imported when a config asks for one, not by ``import convnext_dense``."""
    from .models.roi_extractors import RoIAlignExtractor as extractor
    return extractor(**kwargs)


def registrations() -> List[Registration]:
    """(registry name, class, registry packages) for what ``import convnext_dense`` provides."""
    return [
        ('MODELS', ConvNeXt, ALL_SCOPES),
        ('MODELS', OnnxRuntimeDetector, ALL_SCOPES),
        ('MODELS', OnnxRuntimeSegmentor, ALL_SCOPES),
        ('MODELS', RoIAlignExtractor, DETECTION_SCOPES),
        ('OPTIM_WRAPPER_CONSTRUCTORS', ConvNeXtLayerDecayOptimizerConstructor, ALL_SCOPES),
        *[('HOOKS', hook, ALL_SCOPES) for hook in ALL_HOOKS],
        ('TRANSFORMS', LoadImageOrSkip, ALL_SCOPES),
        ('TRANSFORMS', CheckSegMap, ALL_SCOPES),
        ('RUNNERS', SafeLoadingRunner, ALL_SCOPES),
    ]


def register(entries: List[Registration]) -> None:
    """Idempotent: registers each class, under its own name, once per registry."""
    for registry_name, cls, packages in entries:
        for package in packages:
            registry = getattr(package, registry_name)
            if registry.module_dict.get(cls.__name__) is not cls:
                registry.register_module(cls.__name__, module=cls, force=True)


def register_all() -> None:
    """Everything ``import convnext_dense`` provides, and the ``atomic_local`` file backend."""
    register(registrations())
    register_atomic_backend()
