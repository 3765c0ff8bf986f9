"""Convert a ConvNeXt checkpoint of any layout we read (official, FCMAE, timm, DINOv3, ...) to
ours, or ours back to DINOv3's.

    convnext-dense convert SRC DST [--layout auto] [--prefix backbone.]
                                   [--arch tiny [--use-grn] [--no-layer-scale]] [--to dinov3]

Layouts: official, FCMAE (V2 pre-training), timm, torchvision, mmpretrain, Hugging Face, DINOv3
(facebookresearch/dinov3) and DINOv3 in transformers (``DINOv3ConvNextModel``, its
``model.safetensors``). SRC is a path or URL, read without running code from it unless
--trust-checkpoint. DST gets ``{'state_dict': ..., 'meta': {...}}`` (written atomically),
loadable with ``init_cfg=dict(type='Pretrained', checkpoint=DST)``; with ``--to dinov3``, the
plain state dict the DINOv3 repository's ``ConvNeXt`` loads with ``strict=True`` (a backbone
fine-tuned here, taken back to DINOv3's code; ``--prefix backbone.`` of a detector's
checkpoint is the default). With ``--arch`` the result is checked against that backbone first,
and any missing / unexpected key is named.
"""
import argparse

from ..checkpoint import (LAYOUTS, check_fit, convert_state_dict, load_checkpoint,
                          save_state_dict_atomically, to_dinov3_state_dict)
from ..checkpoint.saving import save_torch_atomically
from ..models import ConvNeXt
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
    parser.add_argument('--to', default='ours', choices=('ours', 'dinov3'),
                        help="ours (default), or dinov3: the DINOv3 repository's layout")
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
    if args.to == 'dinov3':
        state = to_dinov3_state_dict(state)
        save_torch_atomically(state, args.dst)
    else:
        save_state_dict_atomically(state, args.dst, meta=dict(source=args.src, layout=layout))
    print(f'{args.src} ({layout} layout) -> {args.dst} ({args.to} layout, {len(state)} tensors)')
    return 0

