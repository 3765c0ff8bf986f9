"""Whether a checkpoint fits a model, said in one line naming what does not; and a backbone's
``Pretrained`` weights loaded through it."""
import re
from typing import List, Optional

from mmengine.logging import print_log
from torch import nn

from .layouts import CheckpointMismatchError, StateDict, convert_state_dict
from .loading import load_checkpoint


def _listed(keys: List[str], limit: int = 3) -> str:
    shown = ', '.join(repr(k) for k in keys[:limit])
    return f'{len(keys)} ({shown}{", ..." if len(keys) > limit else ""})'


def check_fit(model: nn.Module, state: StateDict, source: str,
              allowed_missing: Optional[str] = None) -> List[str]:
    """Raises :class:`CheckpointMismatchError`, in one line naming ``source``, the counts and
    the first keys, if ``state`` misses a model key, has a key the model lacks, or has a
    tensor of another shape.

    Model keys matching ``allowed_missing`` may be missing (a backbone's per-level output
    norms, which classification checkpoints do not have); returns those.
    """
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    tolerated = [k for k in missing if allowed_missing and re.match(allowed_missing, k)]
    missing = [k for k in missing if k not in tolerated]
    unexpected = [k for k in state if k not in expected]
    mis_shaped = [f'{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(v.shape)}'
                  for k, v in expected.items() if k in state and state[k].shape != v.shape]
    if missing or unexpected or mis_shaped:
        problems = [f'{name} {_listed(keys)}' for name, keys in
                    (('missing keys', missing), ('unexpected keys', unexpected),
                     ('shape mismatches', mis_shaped)) if keys]
        raise CheckpointMismatchError(
            f'Checkpoint {source} does not fit {type(model).__name__} '
            f'({len(expected)} tensors): {"; ".join(problems)}. Is it for another model or '
            f'arch?')
    return tolerated


def load_pretrained_backbone(model: nn.Module, filename: str, prefix: Optional[str] = None,
                             map_location: str = 'cpu', trust: bool = False) -> None:
    """Loads a checkpoint file or URL of any supported layout into a ConvNeXt backbone (read by
    :func:`~convnext_dense.checkpoint.load_checkpoint`; ``trust``: see there)."""
    checkpoint = load_checkpoint(filename, map_location=map_location, trust=trust)
    state, layout = convert_state_dict(checkpoint, prefix, source=filename)
    left_at_init = check_fit(model, state, filename, allowed_missing=r'^norm\d\.')
    model.load_state_dict(state, strict=False)
    print_log(f'Loaded ConvNeXt backbone weights from {filename} ({layout} layout); '
              f'left at initialisation: {left_at_init or "nothing"}', logger='current')
