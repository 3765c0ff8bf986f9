"""The module served under mmcv's ``mmcv._ext`` name, and how it is found.

mmcv-lite ships mmcv's Python ops but not the compiled extension they load with
``ext_loader.load_ext('_ext', [names])``, which only asserts that each name is an attribute.
Our module answers every name: provided kernels run, any other raises
:class:`MissingKernelError` when called, never at import time, so all of ``mmcv.ops`` imports.

It is found by ``_convnext_dense_ext_finder.MmcvExtFinder``, which the installed
``convnext_dense_mmcv_ext.pth`` puts last on ``sys.meta_path`` at interpreter start-up, so the
import order of mmcv / mmdet / mmseg / mmpretrain and this package never matters and a compiled
mmcv wins. :func:`install_op_backend` installs the same finder for interpreters that skipped
site-packages' ``.pth`` files (``python -S``, an unusual install).
"""
import importlib.machinery
import importlib.util
import sys
import types
import warnings
from typing import Callable


EXT_NAME = 'mmcv._ext'
# mmcv.cnn.bricks.transformer imports this from mmcv.ops only if mmcv.ops imports, and leaves it
# out for the life of the process otherwise.
MMCV_OPS_WITNESS = ('mmcv.cnn.bricks.transformer', 'MultiScaleDeformableAttention')


class MissingKernelError(RuntimeError):
    """An mmcv op was called whose compiled kernel convnext-dense does not provide."""


def _missing_kernel(name: str) -> Callable:
    def raise_missing(*args, **kwargs):
        from .kernels import PROVIDED_KERNELS
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
    mmcv_spec = importlib.util.find_spec('mmcv')
    if mmcv_spec is None or not mmcv_spec.submodule_search_locations:
        return False
    found = importlib.machinery.PathFinder.find_spec(EXT_NAME,
                                                     mmcv_spec.submodule_search_locations)
    return found is not None


def build_ext_module() -> TorchvisionExtModule:
    """A new module named ``mmcv._ext`` holding :data:`.kernels.PROVIDED_KERNELS` (torch and
    torchvision load here, when mmcv's ops are first imported, not with this package)."""
    from .kernels import PROVIDED_KERNELS
    module = TorchvisionExtModule(EXT_NAME, __doc__)
    module.__dict__.update(PROVIDED_KERNELS)
    return module


def install_op_backend() -> bool:
    """Makes sure our finder serves ``mmcv._ext`` in this interpreter, and warns if mmcv's ops
    were imported earlier without any kernels (then mmcv-lite has left names out for good).

    Returns True if our backend is (or will be) the one in use, False if a compiled mmcv is.
    """
    import _convnext_dense_ext_finder
    _convnext_dense_ext_finder.install()
    if real_mmcv_ext_available():
        return False
    module_name, name = MMCV_OPS_WITNESS
    module = sys.modules.get(module_name)
    if module is not None and not hasattr(module, name) and EXT_NAME not in sys.modules:
        warnings.warn(
            f'{module_name} was imported before mmcv._ext could be found, so mmcv-lite left '
            f'{name} (and mmcv.ops) out of this process, and mmdet / mmseg models will fail '
            f'to import. convnext-dense serves mmcv._ext from a start-up hook '
            f'(convnext_dense_mmcv_ext.pth in site-packages), which did not run here: start '
            f'Python without -S, reinstall convnext-dense in this environment, or import '
            f'convnext_dense before mmcv / mmdet / mmseg / mmpretrain.', stacklevel=2)
    return True
