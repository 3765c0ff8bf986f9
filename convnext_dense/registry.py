"""Registers our modules in the registries of the frameworks we plug into.

Each goes into mmengine's root registry and mmdet's and mmseg's child registries, so
``type='ConvNeXt'`` (etc.) resolves under ``default_scope`` mmdet or mmseg and for tools that
set no scope; a scope's own module of the same name (e.g. mmpretrain's ConvNeXt) still wins
inside that scope.
"""
from typing import List, Tuple, Type

import mmdet.registry
import mmengine.registry
import mmseg.registry

from .engine.layer_decay import ConvNeXtLayerDecayOptimizerConstructor
from .models import ConvNeXt


def registrations() -> List[Tuple[str, str, Type]]:
    """(registry name, registered name, class) for everything this package provides."""
    return [
        ('MODELS', 'ConvNeXt', ConvNeXt),
        ('OPTIM_WRAPPER_CONSTRUCTORS', 'ConvNeXtLayerDecayOptimizerConstructor',
         ConvNeXtLayerDecayOptimizerConstructor),
    ]


def register_all() -> None:
    """Idempotent: registers each class once per registry."""
    for registry_name, name, cls in registrations():
        for package in (mmengine.registry, mmdet.registry, mmseg.registry):
            registry = getattr(package, registry_name)
            if registry.module_dict.get(name) is not cls:
                registry.register_module(name, module=cls, force=True)
