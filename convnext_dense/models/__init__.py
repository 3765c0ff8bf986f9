from .backbones import ARCH_SETTINGS, ConvNeXt, ConvNeXtArch

__all__ = ['ARCH_SETTINGS', 'ConvNeXt', 'ConvNeXtArch']
