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

from .datasets import ToyADE20KDataset, ToyCocoDataset
from .datasets.load_image_or_skip import LoadImageOrSkip
from .engine.layer_decay import ConvNeXtLayerDecayOptimizerConstructor
from .engine.nonfinite_loss_hook import NonFiniteLossHook
from .engine.preflight import PreflightHook
from .engine.progress_bar_hook import ProgressBarHook
from .engine.rng_state_hook import RngStateHook
from .models import ConvNeXt

ALL_SCOPES = (mmengine.registry, mmdet.registry, mmseg.registry)


def registrations() -> List[Tuple[str, Type, tuple]]:
    """(registry name, class, registry packages) for everything this package provides."""
    return [
        ('MODELS', ConvNeXt, ALL_SCOPES),
        ('OPTIM_WRAPPER_CONSTRUCTORS', ConvNeXtLayerDecayOptimizerConstructor, ALL_SCOPES),
        ('HOOKS', ProgressBarHook, ALL_SCOPES),
        ('HOOKS', RngStateHook, ALL_SCOPES),
        ('HOOKS', NonFiniteLossHook, ALL_SCOPES),
        ('HOOKS', PreflightHook, ALL_SCOPES),
        ('DATASETS', ToyCocoDataset, (mmdet.registry, )),
        ('DATASETS', ToyADE20KDataset, (mmseg.registry, )),
        ('TRANSFORMS', LoadImageOrSkip, ALL_SCOPES),
    ]


def register_all() -> None:
    """Idempotent: registers each class, under its own name, once per registry."""
    for registry_name, cls, packages in registrations():
        name = cls.__name__
        for package in packages:
            registry = getattr(package, registry_name)
            if registry.module_dict.get(name) is not cls:
                registry.register_module(name, module=cls, force=True)
