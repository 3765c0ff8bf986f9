"""Regenerate the README's model-zoo table from the paper configs' published results.

    convnext-dense model-zoo           # rewrite the tables in README.md and docs/model_zoo.md
    convnext-dense model-zoo --check   # exit 1 if either is out of date

README.md gets one short table; docs/model_zoo.md the full ones (params, FLOPs, checkpoints).

Each paper config (``configs/{mask_rcnn,cascade_mask_rcnn,upernet}{,_v2,_dinov3}/*.py``)
states the published results of its recipe in ``model_zoo = dict(...)`` (None where the paper
ran no such model; the V2 papers published no detector / segmentor checkpoints, so those rows
link the backbone weights; DINOv3's backbone weights are gated, so those rows name the file and
its terms, ``weights``); the table lists them with the config's path, so the README cannot
drift from the configs.
"""
import functools
import glob
import os.path as osp
from typing import List

from mmengine.config import Config

from ..engine.config import CONFIG_ROOT, config_name, read_config
from .common import command_parser


PAPER_CONFIG_DIRS = ('mask_rcnn', 'cascade_mask_rcnn', 'upernet', 'mask_rcnn_v2',
                     'cascade_mask_rcnn_v2', 'upernet_v2', 'mask_rcnn_dinov3',
                     'cascade_mask_rcnn_dinov3', 'upernet_dinov3')
BEGIN, END = '<!-- model-zoo:begin -->', '<!-- model-zoo:end -->'
DETECTION_HEADER = ('| method | backbone | pretrain | schedule | box AP | mask AP | params | '
                    'FLOPs | config | official checkpoint |\n|---|---|---|---|---|---|---|---|---|---|')
COMPACT_HEADER = '| method | backbone | pretrain | published result | config |\n|---|---|---|---|---|'
SEGMENTATION_HEADER = ('| method | backbone | pretrain | schedule | mIoU (ss / ms+flip) | params | '
                       'FLOPs | config | official checkpoint |\n|---|---|---|---|---|---|---|---|---|')


def paper_configs() -> List[str]:
    """Paths of every paper config the package ships, sorted by folder then name."""
    found = []
    for folder in PAPER_CONFIG_DIRS:
        found += sorted(glob.glob(osp.join(CONFIG_ROOT, folder, '*.py')))
    return found


@functools.lru_cache(maxsize=None)
def zoo_entry(path: str) -> dict:
    """The ``model_zoo`` dict a paper config states (its recipe's published results), with the
    backbone weights it starts from."""
    config = read_config(path)
    entry = config.get('model_zoo')
    if entry is None:
        raise KeyError(f'{path} has no model_zoo = dict(...) entry.')
    entry.setdefault('backbone_checkpoint', _backbone_weights_url(config))
    entry.setdefault('backbone_file', osp.basename(_backbone_weights(config)))
    return entry


def _backbone_weights(config: Config) -> str:
    return (config.model.backbone.get('init_cfg') or {}).get('checkpoint', '')


def _backbone_weights_url(config: Config):
    """The URL the config's backbone starts from, or None where it names a local file (weights
    that are not public: the user downloads them and puts them there)."""
    checkpoint = _backbone_weights(config)
    return checkpoint if checkpoint.startswith(('http://', 'https://')) else None


def results_text(entry: dict) -> str:
    """The published results in a few words: ``box AP 46.2, mask AP 41.7`` or ``mIoU 46.0 /
    46.7 (ss / ms+flip)``, or ``no published result``."""
    if 'miou' in entry:
        single, multi = entry['miou']
        if single is None and multi is None:
            return 'no published result'
        return f'mIoU {_number(single)} / {_number(multi)} (ss / ms+flip)'
    if entry['box_ap'] is None:
        return 'no published result'
    return f"box AP {entry['box_ap']}, mask AP {entry['mask_ap']}"


def _number(value) -> str:
    return '-' if value is None else str(value)


def _checkpoint(entry: dict) -> str:
    """The published model, else the backbone weights the config starts from."""
    if entry.get('checkpoint'):
        return f"[model]({entry['checkpoint']})"
    if entry.get('backbone_checkpoint'):
        return f"none published; [backbone]({entry['backbone_checkpoint']})"
    if entry.get('weights'):
        return f"none published; backbone `{entry['backbone_file']}` ({entry['weights']})"
    return 'none published; backbone weights unpublished'


def _row(path: str, entry: dict) -> str:
    """The full row: results, params, FLOPs, the config linked from the repository's root and
    the official checkpoint."""
    relative = osp.join('convnext_dense', 'configs', osp.relpath(path, CONFIG_ROOT))
    link = f"[`{config_name(path)}`]({relative})"
    common = [entry['method'], entry['backbone'], entry['pretrain'], entry['schedule']]
    if 'miou' in entry:
        single, multi = entry['miou']
        results = ['no published result' if single is None and multi is None else
                   f'{_number(single)} / {_number(multi)}']
    elif entry['box_ap'] is None:
        results = ['no published result', '-']
    else:
        results = [str(entry['box_ap']), str(entry['mask_ap'])]
    return '| ' + ' | '.join(common + results + [entry['params'], entry['flops'], link,
                                                  _checkpoint(entry)]) + ' |'


def _compact_row(path: str, entry: dict) -> str:
    """The README's row: what was trained, its published results and the config's name."""
    return '| ' + ' | '.join([entry['method'], entry['backbone'], entry['pretrain'],
                              results_text(entry), f'`{config_name(path)}`']) + ' |'


SIZE_ORDER = ('ConvNeXt-T', 'ConvNeXt-S', 'ConvNeXt-B', 'ConvNeXt-L', 'ConvNeXt-XL',
              'ConvNeXt V2-A', 'ConvNeXt V2-F', 'ConvNeXt V2-P', 'ConvNeXt V2-N', 'ConvNeXt V2-T',
              'ConvNeXt V2-B', 'ConvNeXt V2-L', 'ConvNeXt V2-H', 'DINOv3 ConvNeXt-T',
              'DINOv3 ConvNeXt-S', 'DINOv3 ConvNeXt-B', 'DINOv3 ConvNeXt-L')


def _sorted_entries():
    """(path, entry) of every paper config, by family then size, smallest first."""
    entries = []
    for path in paper_configs():
        entry = zoo_entry(path)
        folder = osp.relpath(path, CONFIG_ROOT).split(osp.sep)[0]
        entries.append((PAPER_CONFIG_DIRS.index(folder),
                        SIZE_ORDER.index(entry['backbone']), entry['pretrain'], path, entry))
    return [(path, entry) for *_, path, entry in sorted(entries)]


def zoo_markdown() -> str:
    """The two full tables (COCO detection, ADE20K segmentation) as Markdown."""
    detection, segmentation = [], []
    for path, entry in _sorted_entries():
        (segmentation if 'miou' in entry else detection).append(_row(path, entry))
    return '\n'.join(['**COCO (val2017)**', '', DETECTION_HEADER, *detection, '',
                      '**ADE20K (val)**', '', SEGMENTATION_HEADER, *segmentation])


def compact_zoo_markdown() -> str:
    """One short table of every paper config, for the README."""
    rows = [_compact_row(path, entry) for path, entry in _sorted_entries()]
    return '\n'.join([COMPACT_HEADER, *rows])


def with_table(readme: str, table: str) -> str:
    """``readme`` with the text between the model-zoo markers replaced by ``table``."""
    if BEGIN not in readme or END not in readme:
        raise ValueError(f'README lacks the markers {BEGIN} ... {END}.')
    head, rest = readme.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f'{head}{BEGIN}\n{table}\n{END}{tail}'


def main(argv=None) -> int:
    parser = command_parser('model-zoo', __doc__)
    parser.add_argument('--check', action='store_true', help='only check; exit 1 if stale')
    parser.add_argument('--readme', default='README.md', help="the repository's README")
    parser.add_argument('--zoo-page', default=osp.join('docs', 'model_zoo.md'),
                        help='the page with the full tables')
    args = parser.parse_args(argv)
    stale = []
    for path, table in ((args.readme, compact_zoo_markdown()), (args.zoo_page, zoo_markdown())):
        with open(path) as f:
            current = f.read()
        updated = with_table(current, table)
        if updated == current:
            continue
        stale.append(path)
        if not args.check:
            with open(path, 'w') as f:
                f.write(updated)
    if args.check:
        for path in stale:
            print(f'{path}: model zoo table is out of date; run convnext-dense model-zoo')
        if not stale:
            print(f'{args.readme}, {args.zoo_page}: model zoo tables are up to date')
        return 1 if stale else 0
    print(f'{args.readme}, {args.zoo_page}: model zoo tables written '
          f'({len(paper_configs())} configs; {len(stale)} file(s) changed)')
    return 0
