"""Kernels for mmcv's ops from torchvision / torch, served as ``mmcv._ext`` (see
:mod:`.backend`). The kernels themselves (:mod:`.kernels`) load with torchvision, only when
mmcv's ops are imported."""
import importlib

from .backend import MissingKernelError, install_op_backend, real_mmcv_ext_available

_KERNELS = ('PROVIDED_KERNELS', 'nms', 'roi_align', 'roi_align_forward', 'roi_align_backward',
            'softnms')


def __getattr__(name: str):
    if name in _KERNELS:
        return getattr(importlib.import_module('.kernels', __name__), name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


__all__ = ['install_op_backend', 'real_mmcv_ext_available', 'MissingKernelError', *_KERNELS]
