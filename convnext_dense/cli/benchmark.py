"""Benchmark ConvNeXt backbones side by side, or whole models from config files.

Backbones (ours against timm, torchvision and mmpretrain, same weights, outputs checked equal):

    convnext-dense benchmark --arch tiny --img-size 224 --batch-size 8 --mode infer \\
        --impls ours,timm,torchvision,mmpretrain --channels-last --threads 2 \\
        --json work_dirs/bench/infer.json --plot work_dirs/bench/infer.png

Whole models (detectors / segmentors, synthetic batches; several configs are interleaved):

    convnext-dense benchmark --config configs/demo/mask-rcnn_convnext-atto_toy.py \\
        --img-size 320 --batch-size 2 --mode train

Exported models (convnext-dense export's graph) in ONNX Runtime beside the same graph in PyTorch eager,
one image per step; one config per run makes the ratio the pair's:

    convnext-dense benchmark --config configs/mask_rcnn/mask-rcnn_convnext-t_fpn_3x_coco.py \
        --onnxruntime --img-size 800 --batch-size 1 --threads 2

Ops we serve ourselves, our variants side by side with the stock ones (soft-NMS against
torchvision's NMS on the same boxes; RoI extraction, forward and backward, against mmdet's loop):

    convnext-dense benchmark --op soft_nms --count 2000 --box-layout uniform --threads 2
    convnext-dense benchmark --op roi_align --count 1024 --img-size 800 --dtype bf16

Prints a table; ``--json`` writes the report (schema in ``convnext_dense/benchmark/report.py``),
``--plot`` a bar chart of images/s.
"""
import argparse


from ..benchmark import (BackboneBenchmarkSettings, ModelBenchmarkSettings,
                                      format_table, plot_report, run_backbone_benchmark,
                                      run_model_benchmark, write_json)
from ..benchmark.harness import DTYPES
from ..benchmark.onnxruntime_inference import run_onnxruntime_benchmark
from ..benchmark.ops import BOX_LAYOUTS, OPS, OpBenchmarkSettings, run_op_benchmark
from .common import add_cfg_options, command_parser


def parse_args(argv=None) -> argparse.Namespace:
    parser = command_parser('benchmark', __doc__)
    parser.add_argument('--config', nargs='+', help='full-model mode: config file(s) to time')
    add_cfg_options(parser, 'model.backbone.drop_path_rate=0.1')
    parser.add_argument('--onnxruntime', action='store_true',
                        help='full-model mode: time each exported model in ONNX Runtime beside '
                        'PyTorch eager (fp32 inference, batch 1)')
    parser.add_argument('--op', choices=OPS, help='op mode: time this op against its peers')
    parser.add_argument('--count', type=int, default=None,
                        help='op mode: boxes (soft_nms, default 2000) or RoIs (roi_align, '
                        'default 2000) per call')
    parser.add_argument('--box-layout', choices=BOX_LAYOUTS, default=None,
                        help='op mode (soft_nms): boxes spread over the image, or clustered '
                        'around 20 objects')
    parser.add_argument('--arch', default='tiny', help='backbone mode: ConvNeXt size')
    parser.add_argument('--v2', action='store_true', help='backbone mode: ConvNeXt V2 (GRN)')
    parser.add_argument('--impls', default='ours,timm,torchvision,mmpretrain',
                        help='backbone mode: comma-separated implementations; NAME-v2 is '
                             "NAME's ConvNeXt V2 (V1 beside V2 in one run: ours,ours-v2)")
    parser.add_argument('--img-size', type=int, default=None,
                        help='square input side (default 224 backbone, 512 model)')
    parser.add_argument('--batch-size', type=int, default=None,
                        help='images per step (default 8 backbone, 2 model)')
    parser.add_argument('--mode', choices=['infer', 'train'], default='infer')
    parser.add_argument('--dtype', choices=sorted(DTYPES), default='fp32',
                        help='fp32, or autocast to bf16 / fp16')
    parser.add_argument('--channels-last', action='store_true',
                        help='backbone mode: NHWC memory format for every implementation')
    parser.add_argument('--drop-path-rate', type=float, default=None,
                        help='backbone mode: stochastic depth of the last block, the same '
                             'linear schedule for every implementation (training steps)')
    parser.add_argument('--compile', action='store_true',
                        help='also time each model compiled, beside eager (backbone mode: the '
                             'whole backbone; config mode: its backbone and neck); compile time '
                             'and graph breaks are reported apart')
    parser.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    parser.add_argument('--device', default='cpu', help='cpu, cuda or cuda:N')
    parser.add_argument('--tf32', action=argparse.BooleanOptionalAction, default=True,
                        help='TF32 for float32 matmuls and convolutions on CUDA (default on, '
                        'as in the configs; --no-tf32 for full float32)')
    parser.add_argument('--warmup', type=int, default=None, help='untimed steps per model')
    parser.add_argument('--rounds', type=int, default=None, help='timed interleaved rounds')
    parser.add_argument('--json', help='write the report here')
    parser.add_argument('--plot', help='write a bar chart PNG here')
    return parser.parse_args(argv)


def _given(args: argparse.Namespace, defaults) -> dict:
    """Settings the user gave, on top of the mode's defaults."""
    values = dict(img_size=args.img_size, batch_size=args.batch_size, mode=args.mode,
                  dtype=args.dtype, threads=args.threads, device=args.device,
                  warmup=args.warmup, rounds=args.rounds, drop_path_rate=args.drop_path_rate,
                  tf32=args.tf32)
    return {k: v for k, v in values.items() if v is not None and hasattr(defaults, k)}


def run(args: argparse.Namespace) -> dict:
    if args.op:
        given = _given(args, OpBenchmarkSettings)
        given.pop('mode', None)
        extra = dict(count=args.count, layout=args.box_layout)
        return run_op_benchmark(OpBenchmarkSettings(
            op=args.op, **given, **{k: v for k, v in extra.items() if v is not None}))
    if args.config:
        if args.channels_last:
            raise SystemExit('--channels-last applies to backbone mode only.')
        settings = ModelBenchmarkSettings(compile=args.compile,
                                          **_given(args, ModelBenchmarkSettings))
        if args.onnxruntime:
            return run_onnxruntime_benchmark(settings, args.config, args.cfg_options)
        return run_model_benchmark(settings, args.config, args.cfg_options)
    settings = BackboneBenchmarkSettings(arch=args.arch, use_grn=args.v2,
                                         channels_last=args.channels_last,
                                         compile=args.compile,
                                         **_given(args, BackboneBenchmarkSettings))
    impls = [name.strip() for name in args.impls.split(',') if name.strip()]
    return run_backbone_benchmark(settings, impls)


def main(argv=None) -> dict:
    args = parse_args(argv)
    report = run(args)
    print(format_table(report))
    if args.json:
        write_json(report, args.json)
        print(f'json: {args.json}')
    if args.plot:
        plot_report([report], args.plot)
        print(f'plot: {args.plot}')
    return report

