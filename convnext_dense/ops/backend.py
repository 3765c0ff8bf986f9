"""Installs a module under mmcv's ``mmcv._ext`` name that serves :mod:`.kernels`.

mmcv-lite ships mmcv's Python ops but not the compiled extension they load with
``ext_loader.load_ext('_ext', [names])``, which only asserts that each name is an attribute.
Our module answers every name: provided kernels run, any other raises
:class:`MissingKernelError` when called, never at import time, so all of ``mmcv.ops`` imports.
"""
import importlib.machinery
import importlib.util
import sys
import types
from typing import Callable

from .kernels import PROVIDED_KERNELS, MissingKernelError

EXT_NAME = 'mmcv._ext'


def _missing_kernel(name: str) -> Callable:
    def raise_missing(*args, **kwargs):
        raise MissingKernelError(
            f"mmcv op '{name}' needs mmcv's compiled kernels, which convnext-dense does not "
            f"provide (it provides: {', '.join(sorted(PROVIDED_KERNELS))}). Install a full "
            f'mmcv built for your torch version to use it.')

    raise_missing.__name__ = name
    return raise_missing


class TorchvisionExtModule(types.ModuleType):
    """Stands in for mmcv's compiled ``_ext``: provided kernels, else call-time errors."""

    def __getattr__(self, name: str) -> Callable:
        if name.startswith('__'):
            raise AttributeError(name)
        return _missing_kernel(name)


def real_mmcv_ext_available() -> bool:
    """True if a compiled ``mmcv._ext`` (full mmcv) is importable; it then wins over ours."""
    module = sys.modules.get(EXT_NAME)
    if module is not None:
        return not isinstance(module, TorchvisionExtModule)
    try:
        return importlib.util.find_spec(EXT_NAME) is not None
    except ImportError:  # mmcv itself is missing
        return False


def build_ext_module() -> TorchvisionExtModule:
    module = TorchvisionExtModule(EXT_NAME, __doc__)
    # A real spec: mmengine's mmcv_full_available() calls pkgutil.find_loader('mmcv._ext'),
    # which raises on a module whose __spec__ is None. loader=None makes it report "not full".
    module.__spec__ = importlib.machinery.ModuleSpec(EXT_NAME, loader=None,
                                                     origin=__name__)
    module.__dict__.update(PROVIDED_KERNELS)
    return module


def install_op_backend() -> bool:
    """Puts our ``mmcv._ext`` in ``sys.modules`` unless a compiled one exists.

    Must run before ``mmcv.ops`` (hence ``mmdet.models`` / ``mmdet.structures``) is imported.
    Returns True if our backend is (now) the one in use.
    """
    if real_mmcv_ext_available():
        return False
    if EXT_NAME not in sys.modules:
        sys.modules[EXT_NAME] = build_ext_module()
    return True
