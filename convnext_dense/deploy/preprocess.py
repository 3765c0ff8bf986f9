"""The data preprocessor's work on one batch of images, as graph operations."""
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InputError


class GraphPreprocess(nn.Module):
    """mmengine's ``ImgDataPreprocessor`` arithmetic (channel flip, ``(x - mean) / std``, zero
    padding after normalisation up to ``pad_size_divisor``) for an exported graph.

    Input: (B, 3, H, W) float, 0-255, in the channel order the data pipeline loads (BGR for
    mmcv). Output: (B, 3, H', W') with H', W' the next multiples of the divisor. The padding is
    computed from the input's shape inside the graph, so it stays right for every size.
    """

    def __init__(self, mean: torch.Tensor, std: torch.Tensor, flip_channels: bool,
                 size_divisor: int = 1, pad_value: float = 0.0):
        super().__init__()
        self.register_buffer('mean', mean.detach().clone().view(1, -1, 1, 1))
        self.register_buffer('std', std.detach().clone().view(1, -1, 1, 1))
        self.flip_channels = flip_channels
        self.size_divisor = int(size_divisor or 1)
        self.pad_value = float(pad_value)

    @classmethod
    def of_detector(cls, data_preprocessor) -> 'GraphPreprocess':
        """From mmdet's ``DetDataPreprocessor`` (mmengine's attribute names)."""
        return cls(data_preprocessor.mean, data_preprocessor.std,
                   bool(data_preprocessor._channel_conversion),
                   data_preprocessor.pad_size_divisor, data_preprocessor.pad_value)

    @classmethod
    def of_segmentor(cls, data_preprocessor) -> 'GraphPreprocess':
        """From mmseg's ``SegDataPreprocessor`` at test time: it pads only to what its own
        ``test_cfg`` asks (``size_divisor``; a fixed ``size`` is not a divisor and is refused)."""
        test_cfg = data_preprocessor.test_cfg or {}
        if test_cfg.get('size'):
            raise InputError(f'data_preprocessor.test_cfg.size={test_cfg["size"]}: padding '
                             f'every image to one size does not export; use size_divisor.')
        return cls(data_preprocessor.mean, data_preprocessor.std,
                   bool(data_preprocessor.channel_conversion),
                   test_cfg.get('size_divisor') or 1, data_preprocessor.pad_val)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        if self.flip_channels:
            image = image.flip(1)
        image = (image - self.mean) / self.std
        if self.size_divisor > 1:
            height, width = image.shape[-2:]
            pad_h = (self.size_divisor - height % self.size_divisor) % self.size_divisor
            pad_w = (self.size_divisor - width % self.size_divisor) % self.size_divisor
            image = F.pad(image, (0, pad_w, 0, pad_h), value=self.pad_value)
        return image


def image_limits(image: torch.Tensor) -> torch.Tensor:
    """(4,) float: the image's (W, H, W, H), from its shape inside the graph, to clip xyxy boxes
    to the image as mmdet does (to ``img_shape``, the size before padding)."""
    height_width = torch._shape_as_tensor(image)[-2:].flip(0).to(torch.float32)
    return height_width.repeat(2)
