"""Creates a directory all at once: filled in a temporary sibling, then renamed into place.

Concurrent writers (e.g. every torchrun worker generating the toy data) and interrupted runs
therefore never expose a half-written directory: it is either absent or complete.
"""
import os
import shutil
import tempfile
from typing import Callable


def create_directory_atomically(target: str, fill: Callable[[str], None]) -> str:
    """Calls ``fill(staging_dir)`` and renames the result to ``target``, unless ``target``
    exists already (then nothing is written). Returns ``target``."""
    if os.path.isdir(target):
        return target
    parent = os.path.dirname(os.path.abspath(target))
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(dir=parent, prefix=f'.{os.path.basename(target)}.')
    try:
        fill(staging)
        os.rename(staging, target)
    except OSError:
        if not os.path.isdir(target):  # a real failure, not another writer winning the race
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
