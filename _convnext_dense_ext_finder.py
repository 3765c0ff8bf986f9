"""Start-up hook of convnext-dense: lets mmcv-lite's ops find our kernels as ``mmcv._ext``.

mmcv-lite ships mmcv's Python ops but not the compiled extension they import as ``mmcv._ext``.
Whichever package imports ``mmcv.ops`` first (mmdet, mmseg, mmpretrain, timm users' code or
ours), the import must succeed, or mmcv-lite silently leaves names such as
``MultiScaleDeformableAttention`` out for the rest of the process. So this module is imported at
interpreter start-up by ``convnext_dense_mmcv_ext.pth`` (installed beside it in site-packages,
the way pytest-cov ships its start-up hook) and appends :class:`MmcvExtFinder` to
``sys.meta_path``. Being last there, it is consulted only after the regular finders failed: a
compiled mmcv's ``_ext`` always wins. It imports nothing but the standard library; our kernels
(torch, torchvision) load only when ``mmcv._ext`` is actually imported.
"""
import importlib.abc
import importlib.machinery
import sys

EXT_NAME = 'mmcv._ext'


class _ExtLoader(importlib.abc.Loader):
    """Builds the module with :func:`convnext_dense.ops.backend.build_ext_module`."""

    def create_module(self, spec):
        from convnext_dense.ops.backend import build_ext_module
        return build_ext_module()

    def exec_module(self, module) -> None:
        """Everything was done in :meth:`create_module`."""


class MmcvExtFinder(importlib.abc.MetaPathFinder):
    """Answers the one name ``mmcv._ext`` (and no other) with our kernel module."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != EXT_NAME:
            return None
        return importlib.machinery.ModuleSpec(EXT_NAME, _ExtLoader(), origin='convnext_dense')


def install() -> MmcvExtFinder:
    """Appends the finder to ``sys.meta_path`` once; returns the one in use."""
    for finder in sys.meta_path:
        if type(finder).__name__ == MmcvExtFinder.__name__ and \
                type(finder).__module__ == __name__:
            return finder
    finder = MmcvExtFinder()
    sys.meta_path.append(finder)
    return finder
