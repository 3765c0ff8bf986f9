"""``torch.compile`` where it pays and the graph is static: the backbone and the neck.

mmengine's config key ``compile`` (``True``, or a dict of ``torch.compile`` options such as
``dict(mode='max-autotune')``) makes its Runner compile the whole ``train_step``: mmdet's
losses break the graph (``.item()``) and the optimizer step does not compile
(``InternalTorchDynamoError`` in ``AdamW.step``). Our Runner takes the same key and compiles
only the modules whose compute is static, in place (``nn.Module.compile``: parameter names,
checkpoints and the optimizer's param groups stay as they are):

- ``backbone``: the ConvNeXt, where most of the time goes;
- ``neck``: the detectors' FPN.

The heads (RPN / RoI sampling, proposal and mask post-processing, UperNet's losses) stay eager:
their shapes depend on the data. The fused CPU kernels of our blocks step aside inside a compiled
graph by themselves (``torch.compiler.is_compiling()`` is their one gate), so the two are never
stacked. ``--compile`` on ``train`` / ``test`` sets the key.
"""
from typing import List, Optional, Union

from mmengine.model import is_model_wrapper
from torch import nn

from ..errors import InputError

COMPILED_PARTS = ('backbone', 'neck')


class CompileOptionError(InputError, TypeError):
    """A config's ``compile`` is neither a bool nor a dict of ``torch.compile`` options."""


def compile_options(value: Union[None, bool, dict]) -> Optional[dict]:
    """The ``torch.compile`` keyword arguments the config's ``compile`` asks for, or None for
    eager (``None`` / ``False``).

    Static shapes unless the config says otherwise (``dynamic``): a new input size compiles
    anew. With torch's default, the second size makes dynamo retry with symbolic sizes, and
    inductor's layout code then fails on the backbone's channels-last maps (torch 2.14.1:
    ``cannot determine truth value of Relational: 40*((s0//4)) < 40``), which ended the first
    multi-scale training step. Past ``torch._dynamo.config.recompile_limit`` sizes a part runs
    eager, so compiling pays for fixed-size inputs (crops) more than for multi-scale ones.
    """
    if value is None or value is False:
        return None
    if value is True:
        return dict(dynamic=False)
    if isinstance(value, dict):
        return dict(dict(dynamic=False), **value)
    raise CompileOptionError(f'compile = {value!r}: give True, False or a dict of '
                             f'torch.compile options.')


def compile_static_parts(model: nn.Module, options: dict) -> List[str]:
    """Compiles ``model``'s :data:`COMPILED_PARTS` in place (once: a part already compiled is
    left alone) and returns the names of those it compiled now."""
    if is_model_wrapper(model):
        model = model.module
    compiled = []
    for name in COMPILED_PARTS:
        part = getattr(model, name, None)
        if isinstance(part, nn.Module) and getattr(part, '_compiled_call_impl', None) is None:
            part.compile(**options)
            compiled.append(name)
    return compiled
