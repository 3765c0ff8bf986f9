"""The one way every tool (and the Predictor and the benchmark) loads a config:
:func:`load_config` reads the file, applies ``--cfg-options`` and runs the config-time checks,
which turn bad input into one clear error before a Runner exists (nothing in the work dir is
touched): :func:`check_cfg_options` (typos in ``--cfg-options``), :func:`check_model_config`
(unknown ``type`` names and keyword arguments in ``model``), :func:`check_annotation_files`
(missing or invalid annotation JSON).

Run-time checks (empty datasets, missing files, checkpoints that do not fit) are
:class:`~convnext_dense.engine.hooks.preflight.PreflightHook`'s, declared in the configs.
"""
import ast
import copy
import difflib
import functools
import importlib
import inspect
import json
import logging
import os
import os.path as osp
from typing import Any, Dict, Iterable, List, Optional

from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.runner import Runner

from ..datasets.coco_audit import audit_coco
from ..errors import ConfigError, DatasetError
from .dataset_wrappers import leaf_datasets

# Annotation files up to this size are parsed before the run (COCO val: 20 MB; train: 450 MB,
# which would add ~10 s; larger ones are only checked to exist).
JSON_CHECK_MAX_BYTES = 200 * 2**20
# Model entries whose ``type`` names something outside the registries (mmdet looks RoI layers
# up in ``mmcv.ops``); like ``*_cfg`` entries, they are left to their own builders.
OWN_BUILDER_KEYS = ('roi_layer', )


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(dict.fromkeys(choices)), n=3, cutoff=0.6)
    return f'; did you mean {" / ".join(close)}?' if close else ''


def _registries(scope: str, name: str) -> List[Any]:
    registries = []
    for package in dict.fromkeys((scope, 'mmengine')):
        module = importlib.import_module(f'{package}.registry')
        if hasattr(module, name):
            registries.append(getattr(module, name))
    return registries


def _resolve_type(type_name: str, registries: List[Any]):
    """The class the first of ``registries`` that knows ``type_name`` gives it, or None."""
    found = (registry.get(type_name) for registry in registries)
    return next((cls for cls in found if cls is not None), None)


def _known_type_names(registries: List[Any]) -> List[str]:
    names = set()
    for registry in registries:
        scope = registry
        while scope is not None:
            names.update(scope.module_dict)
            scope = scope.parent
    return sorted(names)


def _accepted_arguments(cls) -> Optional[set]:
    """Keyword arguments ``cls(...)`` accepts; None when it takes ``**kwargs``."""
    parameters = inspect.signature(cls).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return {p.name for p in parameters}


def check_model_config(cfg: Config) -> None:
    """Every ``type`` under ``cfg.model`` exists (in MODELS or TASK_UTILS of the config's
    scope), and classes without ``**kwargs`` get only arguments they take. ``*_cfg`` entries
    (norm / act / init / train / test settings) and :data:`OWN_BUILDER_KEYS` are read by
    special builders that take extra keys, so they are left to those builders."""
    scope = cfg.get('default_scope') or 'mmengine'
    registries = _registries(scope, 'MODELS') + _registries(scope, 'TASK_UTILS')
    _check_typed_dicts(cfg.get('model'), 'model', registries)


def _check_typed_dicts(node: Any, path: str, registries: List[Any]) -> None:
    if isinstance(node, (list, tuple)):
        for index, item in enumerate(node):
            _check_typed_dicts(item, f'{path}.{index}', registries)
        return
    if not isinstance(node, dict):
        return
    type_name = node.get('type')
    if isinstance(type_name, str) and '.' not in type_name:  # scoped names: their own registry
        cls = _resolve_type(type_name, registries)
        if cls is None:
            raise ConfigError(f'{path}.type={type_name!r} is not a registered model component'
                              f'{_suggest(type_name, _known_type_names(registries))}')
        accepted = _accepted_arguments(cls)
        if accepted is not None:
            for key in node:
                if key not in accepted and key not in ('type', '_scope_'):
                    raise ConfigError(f'{path}.{key}: {cls.__name__} takes no argument {key!r}'
                                      f'{_suggest(key, accepted)}')
    for key, value in node.items():
        if not key.endswith('_cfg') and key not in OWN_BUILDER_KEYS:
            _check_typed_dicts(value, f'{path}.{key}', registries)


def _keys_read_from_cfg(source: str) -> set:
    """The string keys ``source`` reads from an object named ``cfg`` or an attribute ``.cfg``:
    ``cfg.get('compile')``, ``self.cfg['model']``, ``'sync_bn' in cfg``."""
    def is_cfg(node) -> bool:
        return (isinstance(node, ast.Name) and node.id == 'cfg') or \
            (isinstance(node, ast.Attribute) and node.attr == 'cfg')

    def text(node):
        return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) \
            else None

    keys = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr == 'get' and is_cfg(node.func.value) and node.args:
            keys.add(text(node.args[0]))
        elif isinstance(node, ast.Subscript) and is_cfg(node.value):
            keys.add(text(node.slice))
        elif isinstance(node, ast.Compare) and any(isinstance(op, ast.In) for op in node.ops) \
                and any(is_cfg(c) for c in node.comparators):
            keys.add(text(node.left))
    return keys - {None}


@functools.lru_cache(maxsize=None)
def runner_config_keys() -> frozenset:
    """Every top-level config key a run reads besides the entries a config holds: the
    arguments of mmengine's ``Runner.__init__``, and the keys the code of the Runner our
    configs declare (``SafeLoadingRunner`` and its bases), and of our launcher, reads from its
    config (``compile``, ``sync_bn``, ``model_wrapper_cfg``, ``trust_checkpoint``, ...), found in
    their source, so that a key a new mmengine reads is known without a list to keep."""
    from . import launch
    from .runner import SafeLoadingRunner
    keys = set(inspect.signature(Runner.__init__).parameters) - {'self', 'cfg'}
    modules = {inspect.getmodule(cls) for cls in SafeLoadingRunner.__mro__
               if cls.__module__.startswith(('mmengine.', 'convnext_dense.'))} | {launch}
    for module in modules:
        keys |= _keys_read_from_cfg(inspect.getsource(module))
    return frozenset(keys)


def check_cfg_options(cfg: Config, options: Optional[dict]) -> None:
    """Each ``--cfg-options`` key names an existing entry, or an argument its parent's ``type``
    accepts, or a key a run reads at the top level (:func:`runner_config_keys`); otherwise
    :class:`ConfigError` with the closest existing names."""
    if not options:
        return
    scope = cfg.get('default_scope') or 'mmengine'
    registries = [r for name in ('MODELS', 'TASK_UTILS', 'HOOKS', 'LOOPS', 'OPTIM_WRAPPERS',
                                 'OPTIMIZERS', 'PARAM_SCHEDULERS', 'DATASETS', 'TRANSFORMS',
                                 'METRICS', 'VISUALIZERS', 'VISBACKENDS', 'DATA_SAMPLERS')
                  for r in _registries(scope, name)]
    runner_keys = runner_config_keys()
    for option in options:
        node: Any = cfg._cfg_dict
        parts = option.split('.')
        for depth, part in enumerate(parts):
            here = '.'.join(parts[:depth + 1])
            last = depth == len(parts) - 1
            if isinstance(node, (list, tuple)):
                if not part.isdigit() or int(part) >= len(node):
                    raise ConfigError(f'--cfg-options {option}: {here} is not an index of a '
                                      f'{len(node)}-item list.')
                node = node[int(part)]
                continue
            if not isinstance(node, dict):
                raise ConfigError(f'--cfg-options {option}: {".".join(parts[:depth])} is a '
                                  f'{type(node).__name__}, not a dict.')
            if part in node:
                node = node[part]
                continue
            if last and depth == 0 and part in runner_keys:
                break
            type_name = node.get('type') if depth > 0 else None
            cls = _resolve_type(type_name, registries) if isinstance(type_name, str) else None
            accepted = _accepted_arguments(cls) if cls is not None else set()
            if last and (accepted is None or part in accepted):
                break
            top_level = runner_keys if depth == 0 else ()
            choices = list(node) + sorted(set(accepted or ()) | set(top_level))
            raise ConfigError(f'--cfg-options {option}: no entry {here!r}'
                              f'{_suggest(part, choices)}')


def _dataloaders(cfg: Config):
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(name)
        if isinstance(loader, dict) and loader.get('dataset') is not None:
            yield name, loader['dataset']


def check_annotation_files(cfg: Config) -> None:
    """Annotation files of every dataloader exist, and JSON ones parse (up to
    :data:`JSON_CHECK_MAX_BYTES`); COCO ones are audited
    (:func:`~convnext_dense.datasets.coco_audit.audit_coco`), and what mmdet would drop silently
    is reported once per file. :class:`DatasetError` names the loader, file and position."""
    audited = set()
    for loader, dataset_cfg in _dataloaders(cfg):
        for leaf in leaf_datasets(dataset_cfg):
            ann_file = leaf.get('ann_file')
            if not ann_file or not isinstance(ann_file, str):
                continue
            path = ann_file if osp.isabs(ann_file) else osp.join(leaf.get('data_root') or '',
                                                                 ann_file)
            if leaf.get('type', '').startswith('Toy') and not osp.exists(path):
                continue  # the toy datasets write their files on first use
            if not osp.isfile(path):
                raise DatasetError(f'{loader}: annotation file {path} does not exist '
                                   f'(data_root={leaf.get("data_root")!r}, '
                                   f'ann_file={ann_file!r}).')
            if path.endswith('.json') and osp.getsize(path) <= JSON_CHECK_MAX_BYTES and \
                    (loader, path) not in audited:
                audited.add((loader, path))
                try:
                    with open(path) as stream:
                        content = json.load(stream)
                except (json.JSONDecodeError, UnicodeDecodeError) as error:
                    raise DatasetError(f'{loader}: annotation file {path} is not valid JSON: '
                                       f'{error}') from None
                _check_coco_not_empty(content, path, loader, leaf)
                _audit_coco(cfg, content, path, loader, leaf)


def _dataset_classes(cfg: Config, leaf: dict):
    classes = (leaf.get('metainfo') or {}).get('classes')
    if classes is None:
        dataset_class = _resolve_type(leaf.get('type', ''),
                                      _registries(cfg.get('default_scope') or 'mmengine',
                                                  'DATASETS'))
        classes = getattr(dataset_class, 'METAINFO', {}).get('classes')
    return classes


def _audit_coco(cfg: Config, content: Any, path: str, loader: str, leaf: dict) -> None:
    if not isinstance(content, dict) or 'annotations' not in content:
        return
    needs_masks = any(t.get('type') == 'LoadAnnotations' and t.get('with_mask')
                      for t in leaf.get('pipeline') or [] if isinstance(t, dict))
    try:
        dropped = audit_coco(content, path, _dataset_classes(cfg, leaf), needs_masks,
                             training=loader == 'train_dataloader')
    except DatasetError as error:
        raise DatasetError(f'{loader}: {error}') from None
    for line in dropped:
        print_log(f'{loader}: {line}', logger='current', level=logging.WARNING)


def _check_coco_not_empty(content: Any, path: str, loader: str, leaf: dict) -> None:
    # mmengine 0.10.x fails on an empty dataset with "need at least one array to concatenate"
    # (BaseDataset._serialize_data), naming neither dataset nor file: say it here instead.
    if not isinstance(content, dict) or 'images' not in content:
        return
    if not content['images']:
        raise DatasetError(f'{loader}: annotation file {path} lists no images: the dataset '
                           f'would be empty.')
    filter_cfg = leaf.get('filter_cfg') or {}
    if filter_cfg.get('filter_empty_gt') and not leaf.get('test_mode') and \
            not content.get('annotations'):
        raise DatasetError(f'{loader}: annotation file {path} has no annotations, and '
                           f'filter_cfg.filter_empty_gt=True drops every image: the dataset '
                           f'would be empty.')


def _syntax_error_location(path: str) -> Optional[str]:
    """``file:line: syntax error: ...`` for the first file with one in ``path`` and its local
    ``_base_`` files (``package::`` bases are the packages' own), or None."""
    try:
        with open(path) as stream:
            tree = ast.parse(stream.read(), filename=path)
    except SyntaxError as error:
        return f'{path}:{error.lineno}: syntax error in config: {error.msg}'
    except OSError:
        return None
    bases = top_level_literal(tree, '_base_', default=[])
    for base in [bases] if isinstance(bases, str) else bases:
        if '::' not in base:
            found = _syntax_error_location(osp.normpath(osp.join(osp.dirname(path), base)))
            if found:
                return found
    return None


def top_level_literal(tree: ast.Module, name: str, default=None):
    """The value a module's first top-level assignment to ``name`` gives, read from its syntax
    tree without running it, if that value is a Python literal; else ``default``."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, 'id', None) == name
                                                for t in node.targets):
            try:
                return ast.literal_eval(node.value)
            except ValueError:
                return default
    return default


CONFIG_SUFFIXES = ('.py', '.json', '.yaml', '.yml')
# The configs this package ships (package data): found by path, or by name from anywhere.
CONFIG_ROOT = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'configs')


def config_name(path: str) -> str:
    """The name a config is called by: its file name without the suffix."""
    return osp.splitext(osp.basename(path))[0]


@functools.lru_cache(maxsize=None)
def _parsed_config(path: str, version: int) -> Config:
    return Config.fromfile(path)


def read_config(path: str) -> Config:
    """``Config.fromfile(path)``, parsed once per process and file version, as a copy the
    caller may change. mmengine reads every metafile of mmdet / mmseg for each ``package::``
    base it resolves, about a second per paper config; commands and tests that read every
    shipped config (``configs``, ``model-zoo``, the config checks) parse each once. For configs
    whose bases do not change while the process runs (the shipped ones)."""
    return copy.deepcopy(_parsed_config(osp.realpath(path), os.stat(path).st_mtime_ns))


def shipped_configs() -> Dict[str, str]:
    """Name -> path of every config the package ships, bases (``_base_``) left out."""
    found = {}
    for folder, subfolders, files in os.walk(CONFIG_ROOT):
        subfolders[:] = sorted(d for d in subfolders if d != '_base_')
        for file in sorted(files):
            if file.endswith('.py'):
                found[config_name(file)] = osp.join(folder, file)
    return found


def _shipped_config(path: str) -> str:
    """The shipped config called ``path`` (a name, with or without ``.py``), or
    :class:`ConfigError` naming the nearest names."""
    shipped = shipped_configs()
    name = config_name(path)
    if name in shipped:
        return shipped[name]
    raise ConfigError(f'{path}: no such file, and no shipped config of that name'
                      f'{_suggest(name, shipped)} (`convnext-dense configs` lists them).')


def config_file(path: str) -> str:
    """``path``; a config's name (``mask-rcnn_convnext-t_fpn_3x_coco``) where no such file
    exists: the config this package ships under that name; or, for ``package::relative/path.py``
    (as in mmengine's ``_base_``), that config as the package ships it (e.g.
    ``mmdet::convnext/...`` is mmdet's own ConvNeXt config), which must lie inside the package's
    configs: a ``.py`` config is executed when read."""
    if '::' not in path:
        if osp.exists(path) or osp.sep in path or osp.splitext(path)[1] not in ('', '.py'):
            return path
        return _shipped_config(path)
    package, relative = path.split('::', 1)
    if not package:
        raise ConfigError(f'{path}: no package before "::"; name one, e.g. '
                          f'mmdet::convnext/mask-rcnn_convnext-t-p4-w7_fpn_amp-ms-crop-3x_coco.py.')
    try:
        module = importlib.import_module(package)
    except ImportError:
        raise ConfigError(f'{path}: package {package!r} is not installed.') from None
    root = osp.realpath(osp.join(osp.dirname(module.__file__), '.mim', 'configs'))
    shipped = osp.realpath(osp.join(root, relative))
    if osp.commonpath([root, shipped]) != root:
        raise ConfigError(f'{path}: {relative!r} leads out of the configs {package} ships '
                          f'({root}); name a config inside them.')
    if not osp.isfile(shipped):
        raise ConfigError(f'{path}: {package} ships no config {relative!r} ({shipped}).')
    return shipped


def _read(path: str) -> Config:
    """mmengine's ``Config.fromfile`` of the file ``path`` names, with the errors a user's
    file causes (a syntax error, an unknown file type, a ``custom_imports`` module that does
    not import) said in one line naming the file."""
    filename = config_file(path)
    if not filename.endswith(CONFIG_SUFFIXES):
        raise ConfigError(f'{path}: not a config file (mmengine reads '
                          f'{", ".join(CONFIG_SUFFIXES)}).')
    try:
        return Config.fromfile(filename)
    except SyntaxError as error:  # mmengine names no file for errors in a base
        raise ConfigError(_syntax_error_location(filename) or f'{path}: {error}') from None
    except ImportError:
        raise ConfigError(_custom_import_failure(filename) or
                          f'{path}: an import in the config failed.') from None


def _custom_import_failure(filename: str) -> Optional[str]:
    """Which module of the config's ``custom_imports`` does not import, and why."""
    imports = (Config.fromfile(filename, import_custom_modules=False).get('custom_imports')
               or {}).get('imports') or []
    for name in [imports] if isinstance(imports, str) else imports:
        try:
            importlib.import_module(name)
        except ImportError as error:
            return (f'{filename}: custom_imports names {name!r}, which does not import '
                    f'({error}); install it, put its folder on PYTHONPATH or remove it from '
                    f'custom_imports.')
    return None


def check_param_schedulers(cfg: Config, options: Optional[dict]) -> None:
    """Each ``param_scheduler`` entry builds (on a stand-in optimizer), so that mmengine's
    checks of ``begin`` / ``end`` and the like fail before a Runner exists, naming the entry
    and the ``--cfg-options`` that set it."""
    import torch
    schedulers = cfg.get('param_scheduler') or []
    schedulers = [schedulers] if isinstance(schedulers, dict) else schedulers
    registries = _registries(cfg.get('default_scope') or 'mmengine', 'PARAM_SCHEDULERS')
    for index, scheduler in enumerate(schedulers):
        cls = _resolve_type(scheduler.get('type'), registries) \
            if isinstance(scheduler, dict) and isinstance(scheduler.get('type'), str) else None
        if cls is None:
            continue
        arguments = {k: v for k, v in scheduler.items() if k != 'type'}
        if arguments.pop('convert_to_iter_based', False):
            arguments['by_epoch'] = False  # mmengine converts epochs to iterations, same checks
        optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
        try:
            cls(optimizer, **arguments)
        except (ValueError, TypeError, AssertionError, KeyError) as error:
            set_by = [f'{key}={value}' for key, value in (options or {}).items()
                      if key == 'param_scheduler' or key.startswith(f'param_scheduler.{index}.')]
            cause = f' (set by --cfg-options {" ".join(set_by)})' if set_by else ''
            raise ConfigError(f'param_scheduler.{index} ({scheduler["type"]}): '
                              f'{str(error).strip() or type(error).__name__}{cause}.') from None


def load_config(path: str, cfg_options: Optional[dict] = None,
                check_data: bool = True) -> Config:
    """The config at ``path`` (a file, or ``package::relative`` for one a package ships) with
    ``cfg_options`` (``--cfg-options``) merged in, after the config-time checks
    (``check_data=False`` skips the annotation files, for tools that read no dataset);
    :class:`ConfigError` / :class:`DatasetError` name what is wrong."""
    cfg = _read(path)
    check_cfg_options(cfg, cfg_options)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    check_model_config(cfg)
    check_param_schedulers(cfg, cfg_options)
    if check_data:
        check_annotation_files(cfg)
    return cfg
