from .backbones import ARCH_SETTINGS, ConvNeXt, ConvNeXtArch
from .checkpoint import convert_state_dict, detect_layout, load_pretrained_backbone

__all__ = [
    'ARCH_SETTINGS', 'ConvNeXt', 'ConvNeXtArch', 'convert_state_dict', 'detect_layout',
    'load_pretrained_backbone'
]
