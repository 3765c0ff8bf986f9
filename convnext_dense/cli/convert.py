"""Convert a ConvNeXt checkpoint of any layout we read (official, FCMAE, timm, ...) to ours.

    convnext-dense convert SRC DST [--layout auto] [--prefix backbone.]
                                       [--arch tiny [--use-grn] [--no-layer-scale]]

Layouts: official, FCMAE (V2 pre-training), timm, torchvision, mmpretrain, Hugging Face. SRC is
a path or URL, read without running code from it unless --trust-checkpoint. DST gets
``{'state_dict': ..., 'meta': {...}}`` (written atomically), loadable with
``init_cfg=dict(type='Pretrained', checkpoint=DST)``. With ``--arch`` the result is checked
against that backbone first, and any missing / unexpected key is named.
"""
import argparse

from ..checkpoint import load_checkpoint
from ..models import ConvNeXt
from ..checkpoint import (LAYOUTS, check_fit, convert_state_dict,
                                              save_state_dict_atomically)
from .common import add_trust_checkpoint, command_parser


def parse_args(argv=None) -> argparse.Namespace:
    parser = command_parser('convert', __doc__)
    parser.add_argument('src', help='checkpoint path or URL')
    parser.add_argument('dst', help='output path (.pth)')
    parser.add_argument('--layout', default='auto', choices=('auto', ) + LAYOUTS)
    parser.add_argument('--prefix', default=None,
                        help="key prefix of the backbone (default: 'backbone.' if present)")
    parser.add_argument('--arch', default=None, help='check the result against this arch')
    parser.add_argument('--use-grn', action='store_true', help='ConvNeXt V2 (with --arch)')
    parser.add_argument('--no-layer-scale', action='store_true',
                        help='layer_scale_init_value=0, as V2 (with --arch)')
    add_trust_checkpoint(parser)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    checkpoint = load_checkpoint(args.src, trust=args.trust_checkpoint)
    layout = None if args.layout == 'auto' else args.layout
    state, layout = convert_state_dict(checkpoint, args.prefix, layout, source=args.src)
    if args.arch:
        model = ConvNeXt(arch=args.arch, use_grn=args.use_grn,
                         layer_scale_init_value=0.0 if args.no_layer_scale else 1e-6)
        check_fit(model, state, args.src, allowed_missing=r'^norm\d\.')
    save_state_dict_atomically(state, args.dst, meta=dict(source=args.src, layout=layout))
    print(f'{args.src} ({layout} layout, {len(state)} tensors) -> {args.dst}')
    return 0

