"""convnext-dense: ConvNeXt V1 / V2 backbones for mmdet 3 and mmseg 1 on current PyTorch.

Importing this package registers our modules (``ConvNeXt``, the layer-decay optimizer
constructor, hooks, ``LoadImageOrSkip``, the ``atomic_local`` file backend) in the mmengine,
mmdet and mmseg registries, and makes sure ``mmcv._ext`` is served by our kernels (normally the
start-up hook has done so already; see :mod:`convnext_dense.ops.backend`). It changes nothing
in other libraries and imports neither mmdet's / mmseg's models and datasets nor matplotlib.
"""
from .ops import install_op_backend
from .models import ConvNeXt
from .registry import register_all

install_op_backend()
register_all()

__version__ = '0.1.0'
__all__ = ['ConvNeXt', '__version__']
