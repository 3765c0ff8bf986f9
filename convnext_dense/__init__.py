"""convnext-dense: ConvNeXt V1 / V2 backbones for mmdet 3 and mmseg 1 on current PyTorch.

Importing this package, before mmdet / mmseg models are imported:
1. installs torchvision-backed kernels as ``mmcv._ext`` unless a compiled mmcv is present;
2. lets ``torch.load(weights_only=True)`` read mmengine Runner checkpoints;
3. makes mmengine's local file writes (checkpoints) atomic;
4. registers our modules (``ConvNeXt``, ``ConvNeXtLayerDecayOptimizerConstructor``, ...)
   in the mmengine, mmdet and mmseg registries.
"""
from .ops import install_op_backend

install_op_backend()

from .engine.atomic_files import install_atomic_local_backend  # noqa: E402
from .engine.checkpoint_globals import allow_mmengine_checkpoint_globals  # noqa: E402
from .models import ConvNeXt  # noqa: E402
from .registry import register_all  # noqa: E402

allow_mmengine_checkpoint_globals()
install_atomic_local_backend()
register_all()

__version__ = '0.1.0'
__all__ = ['ConvNeXt', '__version__']
