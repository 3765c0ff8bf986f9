"""``--deterministic`` (``randomness.deterministic=True``) on CUDA: what torch needs for it, and
a refusal in one line, naming the op and the way out, where a model needs an op torch has no
deterministic CUDA kernel for.

mmengine's deterministic mode calls ``torch.use_deterministic_algorithms(True)``. On CUDA that
needs ``CUBLAS_WORKSPACE_CONFIG`` set before the first cuBLAS call, or every matmul raises; and
some ops raise whatever is set: for UperNet, the pyramid pooling's ``AdaptiveAvgPool2d`` and the
bilinear resizing (both backward passes add with atomics). Such modules are found before the
first iteration (:func:`nondeterministic_cuda_modules`); ops called as functions are found when
torch raises, and :func:`deterministic_op_error` turns its error into the same one line.
"""
import os
import re
from typing import List, Optional

import torch
from torch import nn

from ..errors import InputError

# cuBLAS's workspace setting that makes its GEMMs deterministic (torch's reproducibility notes).
CUBLAS_WORKSPACE_CONFIG = ':4096:8'

# Modules whose CUDA backward torch documents as raising under deterministic algorithms
# (torch.use_deterministic_algorithms, "will throw a RuntimeError").
NONDETERMINISTIC_CUDA_BACKWARD = (nn.AvgPool3d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d,
                                  nn.AdaptiveMaxPool2d, nn.FractionalMaxPool2d,
                                  nn.FractionalMaxPool3d, nn.MaxUnpool1d, nn.MaxUnpool2d,
                                  nn.MaxUnpool3d, nn.ReflectionPad1d, nn.ReflectionPad2d,
                                  nn.ReflectionPad3d, nn.CTCLoss)
INTERPOLATING_MODES = ('linear', 'bilinear', 'bicubic', 'trilinear')

WAY_OUT = ('train without --deterministic (randomness.deterministic=False): a seeded run then '
           'differs from another only in the order of floating-point sums, or train on the CPU')

_TORCH_REFUSAL = re.compile(r"^(\S+) does not have a deterministic implementation, but you set "
                            r"'torch\.use_deterministic_algorithms\(True\)'")


class DeterminismError(InputError, RuntimeError):
    """Deterministic mode was asked for where torch has no deterministic kernel."""


def prepare_cublas() -> None:
    """Sets ``CUBLAS_WORKSPACE_CONFIG`` for deterministic cuBLAS, unless the user set it."""
    os.environ.setdefault('CUBLAS_WORKSPACE_CONFIG', CUBLAS_WORKSPACE_CONFIG)


def nondeterministic_cuda_modules(model: nn.Module) -> List[str]:
    """``name (Type)`` of each module whose CUDA backward has no deterministic kernel."""
    found = []
    for name, module in model.named_modules():
        interpolating = (isinstance(module, nn.Upsample) and module.mode in INTERPOLATING_MODES)
        if isinstance(module, NONDETERMINISTIC_CUDA_BACKWARD) or interpolating:
            found.append(f'{name} ({type(module).__name__})')
    return found


def check_deterministic_cuda(model: nn.Module) -> None:
    """:class:`DeterminismError` naming the first modules of ``model`` that deterministic CUDA
    training cannot run."""
    found = nondeterministic_cuda_modules(model)
    if found:
        raise DeterminismError(
            f'--deterministic on CUDA: {", ".join(found[:3])}'
            f'{f" and {len(found) - 3} more" if len(found) > 3 else ""} '
            f'{"has" if len(found) == 1 else "have"} no deterministic CUDA backward in torch '
            f'{torch.__version__}; {WAY_OUT}.')


def deterministic_op_error(error: BaseException) -> Optional[DeterminismError]:
    """The one-line :class:`DeterminismError` for torch's refusal of an op under deterministic
    algorithms, or None for any other error."""
    match = _TORCH_REFUSAL.match(str(error)) if isinstance(error, RuntimeError) else None
    if match is None:
        return None
    return DeterminismError(f'--deterministic: {match.group(1)} has no deterministic '
                            f'implementation in torch {torch.__version__}; {WAY_OUT}.')
