"""Parameters and FLOPs of a config's whole model and of its backbone.

    convnext-dense flops CONFIG [--shape H W] [--cfg-options KEY=VALUE ...] [--json OUT]

FLOPs count multiply-adds of one image's forward pass (mmengine's fvcore-derived counter, the
ConvNeXt paper's convention); detectors are counted in mmdet's tensor mode (backbone, neck, RPN
and RoI heads on the proposals of a random image), segmentors up to their logits.
"""
import json

import torch

from ..benchmark.complexity import count_flops, count_parameters
from ..benchmark.full_model import (build_model_from_config, count_model_flops,
                                                 synthetic_batch)
from .common import add_cfg_options, add_config, command_parser


def complexity(config: str, height: int, width: int, cfg_options=None) -> dict:
    """``{'model': {'params', 'flops'}, 'backbone': {...}, 'shape': [H, W]}``."""
    torch.manual_seed(0)
    model = build_model_from_config(config, cfg_options).eval()
    batch = synthetic_batch(model, 1, (height, width), seed=0)
    backbone_input = torch.zeros(1, 3, height, width)
    return dict(
        shape=[height, width],
        model=dict(params=count_parameters(model), flops=count_model_flops(model, batch)),
        backbone=dict(params=count_parameters(model.backbone),
                      flops=count_flops(model.backbone, (backbone_input, ))))


def main(argv=None) -> dict:
    parser = command_parser('flops', __doc__)
    add_config(parser)
    parser.add_argument('--shape', type=int, nargs=2, default=[224, 224], metavar=('H', 'W'))
    add_cfg_options(parser)
    parser.add_argument('--json', help='also write the figures here')
    args = parser.parse_args(argv)
    result = complexity(args.config, *args.shape, args.cfg_options)
    print(f"input {args.shape[0]} x {args.shape[1]}")
    for part in ('model', 'backbone'):
        print(f"{part:<9} params {result[part]['params'] / 1e6:8.2f} M   "
              f"FLOPs {result[part]['flops'] / 1e9:9.2f} G")
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=1)
    return result

