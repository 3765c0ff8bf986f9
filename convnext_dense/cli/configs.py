"""List the configs this package ships, with the published results of their recipes.

    convnext-dense configs [PATTERN]

PATTERN filters by name (shell-style wildcards; a plain word matches anywhere in the name, as
``convnext-t`` or ``upernet*512``). Every command takes a config by path or by the name shown
here: ``convnext-dense train mask-rcnn_convnext-t_fpn_3x_coco``. Paper configs state the
published box / mask AP or mIoU of their recipe; the demo configs train on the embedded toy data.
"""
import fnmatch
import os.path as osp
from typing import Dict

from ..engine.config import CONFIG_ROOT, shipped_configs
from .common import command_parser
from .model_zoo import paper_configs, results_text, zoo_entry


def matching_configs(pattern: str = '') -> Dict[str, str]:
    """Name -> path of the shipped configs whose name matches ``pattern``."""
    wildcard = pattern if any(c in pattern for c in '*?[') else f'*{pattern}*'
    return {name: path for name, path in shipped_configs().items()
            if fnmatch.fnmatch(name, wildcard)}


def main(argv=None) -> Dict[str, str]:
    """Prints one line per matching config: name, folder, published results; returns the rows
    (name -> results)."""
    parser = command_parser('configs', __doc__)
    parser.add_argument('pattern', nargs='?', default='', help='part of a name, or a wildcard')
    args = parser.parse_args(argv)
    found = matching_configs(args.pattern)
    if not found:
        print(f'no shipped config matches {args.pattern!r}')
        return {}
    papers = set(paper_configs())
    rows = {name: results_text(zoo_entry(path)) if path in papers else 'toy data (demo, tests)'
            for name, path in found.items()}
    width = max(map(len, found))
    for name, path in found.items():
        folder = osp.dirname(osp.relpath(path, CONFIG_ROOT))
        print(f'{name:<{width}}  {folder:<22}  {rows[name]}')
    print(f'\n{len(found)} config(s), in {CONFIG_ROOT}')
    return rows
