"""Everything about checkpoints, in one package.

- :mod:`.loading`: reading a file or URL without running code from it (``weights_only``), the
  download cache, integrity of downloads.
- :mod:`.layouts`: the layouts ConvNeXt weights are published in, detected and converted to
  ours and back.
- :mod:`.fit`: whether converted weights fit a model (one line naming what does not), and a
  backbone's ``Pretrained`` weights loaded through it.
- :mod:`.integrity`: which checkpoint of a run is complete and resumable.
- :mod:`.saving`: checkpoints and converted weights written atomically.
"""
from .fit import check_fit, load_pretrained_backbone
from .integrity import (CorruptCheckpointError, check_checkpoint, check_resumable,
                        latest_complete_checkpoint)
from .layouts import (LAYOUTS, CheckpointMismatchError, convert_state_dict, detect_layout,
                      export_state_dict, to_dinov3_state_dict, unwrap_state_dict)
from .loading import (UnreadableCheckpointError, UntrustedCheckpointError, download,
                      load_checkpoint)
from .saving import register_atomic_backend, save_state_dict_atomically

__all__ = [
    'CheckpointMismatchError', 'CorruptCheckpointError', 'LAYOUTS', 'UnreadableCheckpointError',
    'UntrustedCheckpointError', 'check_checkpoint', 'check_fit', 'check_resumable',
    'convert_state_dict', 'detect_layout', 'download', 'export_state_dict',
    'latest_complete_checkpoint', 'load_checkpoint', 'load_pretrained_backbone',
    'register_atomic_backend', 'save_state_dict_atomically', 'to_dinov3_state_dict',
    'unwrap_state_dict'
]
