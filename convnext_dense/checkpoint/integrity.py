"""Which checkpoint a resumed run may start from: the newest one that is complete, and one that
holds a training state (:func:`resume_problem`).

``torch.save`` writes a zip archive whose directory sits at its end, so a truncated file fails
``zipfile``'s checks (the directory is missing, or a member's CRC does not match) without being
unpickled. Atomic writes (:mod:`.saving`) keep truncated files from appearing, but disks
fill, copies are interrupted and files are edited by hand.
"""
import glob
import os.path as osp
import re
import zipfile
from typing import Any, List, Optional

from mmengine.logging import print_log

from ..errors import InputError

CHECKPOINT_NAME = re.compile(r'^(?:iter|epoch)_(\d+)\.pth$')


class CorruptCheckpointError(InputError, RuntimeError):
    """A checkpoint file is truncated or not a checkpoint at all."""


def checkpoint_problem(path: str) -> Optional[str]:
    """Why ``path`` is not a complete ``torch.save`` archive, or None if it is."""
    if not osp.isfile(path):
        return 'file does not exist'
    if not zipfile.is_zipfile(path):
        return f'truncated or not a torch.save archive ({osp.getsize(path)} bytes)'
    try:
        with zipfile.ZipFile(path) as archive:
            bad_member = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        return f'unreadable archive ({error})'
    return None if bad_member is None else f'corrupt member {bad_member} (CRC mismatch)'


def run_checkpoints(work_dir: str) -> List[str]:
    """``iter_N.pth`` / ``epoch_N.pth`` files in ``work_dir``, newest (highest N) first."""
    found = [p for p in glob.glob(osp.join(work_dir, '*.pth'))
             if CHECKPOINT_NAME.match(osp.basename(p))]
    return sorted(found, key=lambda p: -int(CHECKPOINT_NAME.match(osp.basename(p)).group(1)))


def latest_complete_checkpoint(work_dir: str) -> Optional[str]:
    """The newest complete checkpoint in ``work_dir`` (None if there is none); each newer one
    that is truncated or corrupt is reported with a warning and passed over."""
    for path in run_checkpoints(work_dir):
        problem = checkpoint_problem(path)
        if problem is None:
            return path
        print_log(f'Skipping checkpoint {path}: {problem}; trying the previous one.',
                  logger='current', level=30)
    return None


def check_checkpoint(path: str) -> None:
    """Raises :class:`CorruptCheckpointError` naming ``path``, what is wrong and the newest
    complete checkpoint beside it."""
    problem = checkpoint_problem(path)
    if problem is None:
        return
    fallback = latest_complete_checkpoint(osp.dirname(osp.abspath(path)))
    hint = f'; the newest complete one beside it is {fallback}' if fallback else ''
    raise CorruptCheckpointError(f'Checkpoint {path}: {problem}{hint}.')


def _buffer_problem(name: str, buffer: Any) -> Optional[str]:
    """What is wrong with a logged scalar's history as the checkpoint holds it, or None."""
    if not isinstance(buffer, dict) or 'log_history' not in buffer:
        return None  # a HistoryBuffer object (a trusted load) or something mmengine rebuilds
    values, counts = (len(part) if isinstance(part, list) else None
                      for part in (buffer.get('log_history'), buffer.get('count_history')))
    if values is None or counts is None or values != counts:
        return f'message_hub.log_scalars[{name!r}] has {values} values and {counts} counts'
    return None


def resume_problem(checkpoint: dict) -> Optional[str]:
    """Why ``checkpoint`` cannot be resumed from (it holds weights but no training state, or a
    message hub mmengine cannot rebuild), or None."""
    meta = checkpoint.get('meta')
    missing = [key for key in ('epoch', 'iter')
               if not (isinstance(meta, dict) and type(meta.get(key)) is int)]
    if missing:
        return (f'no training state (meta.{" / meta.".join(missing)} missing): it holds weights '
                f'only; to start a new training from them, pass it as load_from '
                f'(--cfg-options load_from=FILE) instead of --resume')
    hub = checkpoint.get('message_hub')
    if not isinstance(hub, dict) or not isinstance(hub.get('log_scalars', {}), dict):
        return 'no message_hub (the logged history a resumed run continues)'
    for name, buffer in hub.get('log_scalars', {}).items():
        problem = _buffer_problem(name, buffer)
        if problem:
            return (f'{problem}: the file was edited or written by another tool; resume from '
                    f'another checkpoint, or start from its weights with load_from')
    return None


def check_resumable(checkpoint: dict, source: str) -> None:
    """Raises :class:`CorruptCheckpointError` naming ``source`` and :func:`resume_problem`."""
    problem = resume_problem(checkpoint)
    if problem:
        raise CorruptCheckpointError(f'--resume {source}: {problem}.')
