"""The one way we read a checkpoint, local or remote, without running code from it.

Every checkpoint (``tools/*``, the Predictor, ``load_from`` / resume through
:class:`~convnext_dense.engine.runner.SafeLoadingRunner`, a backbone's ``Pretrained``
``init_cfg``) is read by :func:`load_checkpoint`: a URL is downloaded into torch's hub cache
(``$TORCH_HOME/hub/checkpoints``, as torch and mmengine do, so earlier downloads are reused),
then every file, downloaded or local, is unpickled with ``weights_only=True``, which builds
tensors and plain containers only (a ``.safetensors`` file, Hugging Face's format, holds
tensors only and is read as such). A file that needs anything else is refused, naming the file
and what it needs; a user who trusts it opts in explicitly (``trust=True``, ``--trust-checkpoint``)
and the full unpickling is logged as such.

Strings: a checkpoint of plain data can still carry Python source that a library runs.
mmengine's ``Runner.resume`` executes ``meta['config']`` (``Config.fromstring(..., '.py')``) to
read ``gpu_ids`` from it, and its ``BaseInferencer``, given weights without a config, executes
``message_hub.runtime_info.cfg``, which a resumed run would carry into its own checkpoints.
Untrusted checkpoints lose both (:func:`without_executable_strings`); ``gpu_ids``, if the source
assigns it a literal list, is kept as a one-line config of that literal.

Integrity: an OpenMMLab-style name ends in the first hex digits of the file's SHA-256
(``..._20220426_154953-050731f4.pth``); a download that does not match it is refused. Other
publishers (the official ConvNeXt URLs) give none, so the SHA-256 of what was downloaded is
logged, to compare with a known-good copy.
"""
import ast
import hashlib
import os
import os.path as osp
import pickle
import re
import urllib.error
from typing import Callable, Optional, Union
from urllib.parse import urlparse

import torch
from mmengine.dist import get_dist_info
from mmengine.logging import print_log

from ..engine.config import top_level_literal
from ..engine.distributed import first_error_of_any_rank, host_group, local_rank
from ..errors import InputError

# The hash in an OpenMMLab ``publish_model`` name: ``<name>-<sha256 prefix>.<ext>``.
_NAMED_HASH = re.compile(r'-([0-9a-f]{8,64})\.[A-Za-z]+$')
# How torch names the global a weights-only load refused.
_REFUSED_GLOBAL = re.compile(r'GLOBAL ([\w.]+)')
_UNPICKLER_DETAIL = re.compile(r'WeightsUnpickler error:\s*(\S[^\n]*)')
TRUST_HINT = ('if you trust its source, load it with --trust-checkpoint (tools), '
              'trust_checkpoint=True (config / Predictor) or trust=True (Pretrained init_cfg)')

MapLocation = Union[str, torch.device, Callable, None]


class UnreadableCheckpointError(InputError, ValueError):
    """A checkpoint that cannot be downloaded, is corrupt, or is not a PyTorch checkpoint."""


class UntrustedCheckpointError(UnreadableCheckpointError):
    """A checkpoint whose unpickling needs more than tensors and plain containers."""


def is_url(source: str) -> bool:
    return source.startswith(('http://', 'https://'))


def cache_dir() -> str:
    """Where downloaded checkpoints go: ``$TORCH_HOME/hub/checkpoints`` (torch's default
    ``~/.cache/torch/hub/checkpoints``)."""
    return osp.join(torch.hub.get_dir(), 'checkpoints')


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def _fetch(url: str) -> str:
    path = osp.join(cache_dir(), osp.basename(urlparse(url).path) or 'checkpoint.pth')
    if osp.exists(path):
        print_log(f'{url}: using the cached download {path}', logger='current')
        return path
    os.makedirs(osp.dirname(path), exist_ok=True)
    print_log(f'Downloading {url} to {path}', logger='current')
    try:
        # Writes to a temporary file and renames it: a broken download leaves no cache entry.
        torch.hub.download_url_to_file(url, path, progress=get_dist_info()[0] == 0)
    except (urllib.error.URLError, OSError) as error:
        raise UnreadableCheckpointError(f'{url}: download failed: {error}') from None
    return path


def download(url: str) -> str:
    """The local path of ``url``'s checkpoint, downloaded into :func:`cache_dir` if not cached.
    In a distributed run one process per node downloads (local rank 0: caches are often
    node-local), and the others read its file; a failed download fails every rank with the
    same line. Checks the SHA-256 the name carries, if any, and logs the file's SHA-256."""
    if host_group() is None:
        path = _fetch(url)
    else:
        failure = None
        if local_rank() == 0:
            try:
                _fetch(url)
            except UnreadableCheckpointError as error:
                failure = str(error)
        failure = first_error_of_any_rank(failure)  # also: the others wait for the download
        if failure:
            raise UnreadableCheckpointError(failure)
        path = _fetch(url)
    digest = sha256_of(path)
    named = _NAMED_HASH.search(osp.basename(path))
    if named and not digest.startswith(named.group(1)):
        raise UnreadableCheckpointError(
            f'{url}: the SHA-256 of {path} is {digest}, but the name says it starts with '
            f'{named.group(1)}: the download is corrupt or not the published file; delete '
            f'{path} and try again.')
    checked = 'matches its name' if named else 'the publisher gives none to check'
    print_log(f'{url}: SHA-256 {digest} ({checked})', logger='current')
    return path


def _unpickle(path: str, source: str, map_location: MapLocation, trust: bool):
    try:
        return torch.load(path, map_location=map_location, weights_only=not trust)
    except pickle.UnpicklingError as error:
        refused = _REFUSED_GLOBAL.search(str(error))
        if refused and not trust:
            raise UntrustedCheckpointError(
                f'{source}: refused: unpickling it would call {refused.group(1)}, which is not '
                f'tensor data and could run code; {TRUST_HINT}.') from None
        detail = _UNPICKLER_DETAIL.search(str(error))
        reason = f'unpickling failed: {detail.group(1) if detail else type(error).__name__}'
    except EOFError:
        reason = 'the file is empty or truncated'
    # IndexError: torch's weights-only unpickler pops an empty stack on some garbage bytes.
    except (RuntimeError, KeyError, IndexError, ValueError, AttributeError, ImportError,
            TypeError) as error:
        detail = str(error).strip().splitlines()[0] if str(error).strip() else ''
        reason = f'{type(error).__name__} {detail}'.strip()
    raise UnreadableCheckpointError(f'{source}: not a PyTorch checkpoint ({reason}).')


def _literal_gpu_ids(config_source: str) -> Optional[list]:
    """The list of ints a config's source assigns to ``gpu_ids`` at top level, read from its
    syntax tree without running it; None if there is none (or the source does not parse)."""
    try:
        tree = ast.parse(config_source)
    except (SyntaxError, ValueError):
        return None
    value = top_level_literal(tree, 'gpu_ids')
    if isinstance(value, (list, tuple)) and all(type(v) is int for v in value):
        return list(value)
    return None


def without_executable_strings(checkpoint: dict, source: str) -> dict:
    """``checkpoint`` without the strings libraries execute as Python (see the module
    docstring): ``meta['config']`` becomes ``gpu_ids = [...]`` (its literal value) or goes,
    ``message_hub['runtime_info']['cfg']`` goes. Says so in one line when it changed anything."""
    removed = []
    meta = checkpoint.get('meta')
    if isinstance(meta, dict) and 'config' in meta:
        gpu_ids = _literal_gpu_ids(meta['config']) if isinstance(meta['config'], str) else None
        if gpu_ids is None:
            del meta['config']
        else:
            meta['config'] = f'gpu_ids = {gpu_ids!r}'
        removed.append("meta['config']")
    runtime_info = (checkpoint.get('message_hub') or {}).get('runtime_info') \
        if isinstance(checkpoint.get('message_hub'), dict) else None
    if isinstance(runtime_info, dict) and 'cfg' in runtime_info:
        del runtime_info['cfg']
        removed.append("message_hub['runtime_info']['cfg']")
    if removed:
        print_log(f'{source}: ignoring {" and ".join(removed)}: config source that mmengine '
                  f'would run as Python; {TRUST_HINT} to keep it.', logger='current', level=30)
    return checkpoint


def _read_safetensors(path: str, source: str, map_location: MapLocation) -> dict:
    """A ``.safetensors`` file (Hugging Face's format: tensors only, nothing to execute) as a
    state dict."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file
    device = map_location if isinstance(map_location, (str, torch.device)) else 'cpu'
    try:
        return load_file(path, device=str(device))
    except (SafetensorError, OSError) as error:
        raise UnreadableCheckpointError(f'{source}: not a readable safetensors file ({error}).') \
            from None


def load_checkpoint(source: str, map_location: MapLocation = 'cpu',
                    trust: bool = False) -> dict:
    """The checkpoint dict at ``source`` (path or http(s) URL), read with ``weights_only=True``
    and :func:`without_executable_strings` unless ``trust``. Raises
    :class:`UntrustedCheckpointError` for a file that needs more,
    :class:`UnreadableCheckpointError` for one that is missing, corrupt or not a dict."""
    path = download(source) if is_url(source) else source
    if not osp.isfile(path):
        raise UnreadableCheckpointError(f'{source}: no such checkpoint file.')
    if path.endswith('.safetensors'):
        return _read_safetensors(path, source, map_location)
    checkpoint = _unpickle(path, source, map_location, trust)
    if trust:
        print_log(f'{source}: loaded with full unpickling (trusted by the user).',
                  logger='current', level=30)
    if not isinstance(checkpoint, dict):
        raise UnreadableCheckpointError(
            f'{source}: holds a {type(checkpoint).__name__}, not a checkpoint (a dict of '
            f'tensors, or one with a state_dict / model entry).')
    return checkpoint if trust else without_executable_strings(checkpoint, source)

