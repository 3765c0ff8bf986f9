"""Export a trained detector or segmentor, preprocessing to post-processing, to ONNX.

    convnext-dense export CONFIG CHECKPOINT --out model.onnx [--shape H W] [--dynamic]
                           [--opset 17] [--check [IMAGE ...]] [--trust-checkpoint] [--cfg-options ...]

Mask R-CNN and Cascade Mask R-CNN: input ``image`` (1, 3, H, W) float32 BGR 0-255; outputs
``boxes`` (N, 4) xyxy in input pixels, ``scores``, ``labels`` and ``masks`` (N, 28, 28) mask
probabilities over each box. UperNet: input (B, 3, H, W); outputs ``seg_logits`` (B, C, H, W)
and ``labels`` (B, H, W). Only standard ONNX operators (RoiAlign, NonMaxSuppression, TopK,
Resize, LayerNormalization ...): stock ONNX Runtime runs the file, ``convnext-dense test`` evaluates
it and ``convnext-dense infer`` predicts with it. ``--dynamic`` lets height and width (and a
segmentor's batch) vary; otherwise the graph is for ``--shape`` (default: the test pipeline's
resize scale). ``--check [IMAGE ...]`` runs the file in ONNX Runtime beside PyTorch on the images (else on a
random image, two sizes with ``--dynamic``) and prints the largest differences.
"""
import argparse
import os
import os.path as osp
import time

import mmcv
import numpy as np
import torch

from ..apis import Predictor
from ..deploy.metadata import export_metadata
from ..deploy.onnx_export import (DEFAULT_OPSET, check_export_memory, export_graph,
                                               export_onnx, non_standard_operators, operators)
from ..engine.config import load_config
from ..errors import InputError
from .common import add_cfg_options, add_config, add_trust_checkpoint, command_parser


def parse_args(argv=None) -> argparse.Namespace:
    parser = command_parser('export', __doc__)
    add_config(parser)
    parser.add_argument('checkpoint', help='checkpoint file (path or URL)')
    parser.add_argument('--out', required=True, help='the .onnx file to write')
    parser.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'),
                        help="the example image's size (the only size without --dynamic)")
    parser.add_argument('--dynamic', action='store_true',
                        help='any image height and width (and batch, for segmentors)')
    parser.add_argument('--opset', type=int, default=DEFAULT_OPSET)
    parser.add_argument('--check', nargs='*', metavar='IMAGE',
                        help='compare ONNX Runtime with PyTorch on these images (resized to '
                        '--shape unless --dynamic), or on a random image')
    add_trust_checkpoint(parser)
    add_cfg_options(parser, 'model.test_cfg.mode=whole')
    return parser.parse_args(argv)


def pipeline_shape(cfg) -> tuple:
    """(H, W) of the test pipeline's ``Resize`` scale, else 512 x 512."""
    for step in cfg.test_dataloader.dataset.get('pipeline', []):
        if step.get('type', '').endswith('Resize') and step.get('scale'):
            width, height = step['scale']
            return int(height), int(width)
    return 512, 512


def check_images(paths, shape: tuple, dynamic: bool) -> list:
    """(1, 3, H, W) float BGR images: the files at ``paths`` (resized to ``shape`` for a fixed
    graph), or a random one of ``shape`` and, for a dynamic graph, one of another size."""
    if not paths:
        rng = np.random.default_rng(0)
        shapes = [shape] + ([(shape[0] + 64, shape[1] + 32)] if dynamic else [])
        return [torch.from_numpy(rng.uniform(0, 255, (1, 3) + s).astype(np.float32))
                for s in shapes]
    images = []
    for path in paths:
        image = mmcv.imread(path)
        if image is None:
            raise InputError(f'--check {path}: not a readable image.')
        if not dynamic:
            image = mmcv.imresize(image, (shape[1], shape[0]))
        images.append(torch.from_numpy(image).permute(2, 0, 1)[None].float())
    return images


def largest_differences(graph, session, image: torch.Tensor) -> str:
    """ONNX Runtime against PyTorch on ``image``."""
    with torch.no_grad():
        expected = graph(image)
    found = session.run(None, {'image': image.numpy()})
    parts = []
    for name, want, got in zip(graph.output_names, expected, found):
        want = want.numpy()
        if want.shape != got.shape:
            parts.append(f'{name} shape {got.shape} vs {want.shape}')
        elif want.size:
            parts.append(f'{name} {np.abs(want.astype(np.float64) - got).max():.2e}')
        else:
            parts.append(f'{name} empty in both')
    return f'{image.shape[2]}x{image.shape[3]}: ' + ', '.join(parts)


def check(graph, out_file: str, images: list) -> None:
    import onnx
    import onnxruntime
    onnx.checker.check_model(out_file, full_check=True)
    session = onnxruntime.InferenceSession(out_file, providers=['CPUExecutionProvider'])
    for image in images:
        print('check, largest |ONNX Runtime - PyTorch|:',
              largest_differences(graph, session, image))


def main(argv=None) -> int:
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options, check_data=False)
    shape = tuple(args.shape) if args.shape else pipeline_shape(cfg)
    if min(shape) < 32:
        raise InputError(f'--shape {shape[0]} {shape[1]}: at least 32 x 32.')
    check_export_memory(shape)
    images = check_images(args.check, shape, args.dynamic) if args.check else None
    predictor = Predictor(cfg, args.checkpoint, trust_checkpoint=args.trust_checkpoint)
    graph = export_graph(predictor.model, predictor.task, fixed_size=not args.dynamic)
    metadata = export_metadata(cfg, predictor.task, predictor.model.dataset_meta, shape,
                               args.dynamic)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    partial = f'{args.out}.partial'
    start = time.perf_counter()
    model = export_onnx(graph, partial, shape, args.dynamic, metadata, args.opset)
    custom = non_standard_operators(model)
    if custom:
        os.remove(partial)
        raise InputError(f'{args.config}: the graph uses operators outside the standard ONNX '
                         f'domain: {sorted(custom)}')
    os.replace(partial, args.out)
    print(f'{args.out}: {predictor.task.name}, '
          f'{"any height and width" if args.dynamic else f"{shape[0]}x{shape[1]} only"}, '
          f'opset {args.opset}, {osp.getsize(args.out) / 2**20:.1f} MiB, '
          f'{time.perf_counter() - start:.1f} s')
    print('operators:', ' '.join(sorted(op for _, op in operators(model))))
    if args.check is not None:
        check(graph, args.out, images or check_images([], shape, args.dynamic))
    return 0

