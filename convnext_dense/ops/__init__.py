"""Kernels for mmcv's ops from torchvision / torch, installed as ``mmcv._ext`` when needed."""
from .backend import install_op_backend, real_mmcv_ext_available
from .kernels import PROVIDED_KERNELS, MissingKernelError, nms, roi_align_backward, roi_align_forward

__all__ = [
    'install_op_backend', 'real_mmcv_ext_available', 'PROVIDED_KERNELS', 'MissingKernelError',
    'nms', 'roi_align_forward', 'roi_align_backward'
]
