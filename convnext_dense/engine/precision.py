"""TensorFloat-32 for float32 work on NVIDIA GPUs (Ampere and later), and what a run's float32
precision settings are.

torch runs float32 matmuls (``nn.Linear``: ConvNeXt's MLPs, the detection heads' FC layers) in
full float32 by default and cuDNN convolutions in TF32. TF32 keeps float32's range with a
10-bit mantissa, within the noise of training; the paper's A100 throughput figure is TF32.
Our configs turn it on for both (``env_cfg.tf32 = True``, applied by
:class:`~convnext_dense.engine.runner.SafeLoadingRunner`, the Predictor and the benchmark);
``env_cfg.tf32 = False`` is full float32 everywhere. CPU work is unaffected.
"""
from typing import Optional

import torch


def set_tf32(enabled: Optional[bool]) -> None:
    """TF32 on (True) or off (False) for CUDA matmuls and cuDNN convolutions; None leaves
    torch's settings as they are.

    CPU float32 matmuls are unchanged: the matmul switch is torch's float32 matmul precision
    'high', which on CPUs computes in full float32 (only 'medium' lets oneDNN use bfloat16).
    """
    if enabled is None:
        return
    torch.backends.cuda.matmul.allow_tf32 = bool(enabled)
    torch.backends.cudnn.allow_tf32 = bool(enabled)


def precision_settings() -> dict:
    """The settings that decide float32 speed and numerics on a GPU, for reports and logs."""
    return dict(tf32_matmul=torch.backends.cuda.matmul.allow_tf32,
                tf32_cudnn=torch.backends.cudnn.allow_tf32,
                cudnn_benchmark=torch.backends.cudnn.benchmark,
                cudnn_deterministic=torch.backends.cudnn.deterministic,
                float32_matmul_precision=torch.get_float32_matmul_precision())
