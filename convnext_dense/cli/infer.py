"""Predict on your own images with a trained (or official) detector / segmentor checkpoint.

    convnext-dense infer CONFIG CHECKPOINT INPUT [INPUT ...] [--out-dir work_dirs/infer]
                          [--score-thr 0.3] [--device cpu|cuda] [--cfg-options KEY=VALUE ...]

INPUT: image files or folders (their files in a format OpenCV reads: JPEG, PNG, BMP, TIFF, GIF,
WebP, JPEG 2000, PNM; other files are named in a note). For each image
writes ``<name>.png`` (boxes, class names, scores and masks; or a colour map with a legend) and
``<name>.json`` (schema in ``convnext_dense/apis/prediction_json.py``); segmentors also write
``<name>_labels.png``, the class index of every pixel. ``<name>`` is the image's file stem, or
where two inputs share a stem, its path with ``_`` for separators and dot. CHECKPOINT may be a
file or URL, ours or an official ConvNeXt mmdet / mmseg checkpoint, or a ``.onnx`` file from
``convnext-dense export`` (run in ONNX Runtime); it is read without running
code from it (``--trust-checkpoint`` to unpickle one that needs more) and must fit the config's
model. An image that cannot be read or resized is skipped and named; the others are still
predicted, and the exit status is 1. A detector's masks and picture of a huge image are made
at a reduced scale (:func:`mask_scale`), recorded as ``mask_scale`` in its JSON.
"""
import json
import os
import os.path as osp
import sys
from collections import Counter
from typing import Dict, List

import cv2
import mmcv
import numpy as np
from mmengine.utils import ProgressBar

from ..apis import Predictor
from ..datasets.image_file import image_file_problem
from ..engine.config import load_config
from ..errors import InputError
from .common import add_cfg_options, add_config, add_trust_checkpoint, command_parser

# The formats OpenCV decodes (what mmcv.imread reads), as a folder's files are picked by name.
IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.gif', '.webp', '.jp2',
                  '.pbm', '.pgm', '.ppm', '.pnm')
# What a detector's picture and JSON cost per pixel of the image they are made at: its masks,
# pasted one byte per pixel each (max_per_img of them: 100 for the paper configs), and drawing
# them with mmdet's visualiser (matplotlib), measured at 180 bytes a pixel (20 masks on a
# 6197 x 6197 picture: 6.8 GB above the image). For an 8000 x 8000 image (183 MiB decoded) that
# was 10-14 GB. Above MASK_BUDGET_PER_IMAGE_BYTE times the decoded image (and
# MASK_BUDGET_FLOOR), masks and picture are made at a reduced scale: the model saw the image at
# its test scale (1333 x 800 for the paper configs), so they lose little.
DRAWING_BYTES_PER_PIXEL = 180
MASK_BUDGET_PER_IMAGE_BYTE = 4
MASK_BUDGET_FLOOR = 512 * 2**20


class SkippedImage(InputError):
    """An input image that cannot be predicted; the run goes on without it."""


def collect_images(inputs: List[str]) -> List[str]:
    """Image files named directly or found in named folders (sorted; a folder's other files
    are named in one note); errors name what is missing or holds no image."""
    images = []
    for item in inputs:
        if osp.isdir(item):
            files = sorted(f for f in os.listdir(item)
                           if osp.isfile(osp.join(item, f)) and not f.startswith('.'))
            found = [osp.join(item, f) for f in files if f.lower().endswith(IMAGE_SUFFIXES)]
            if not found:
                raise FileNotFoundError(f'{item}: folder holds no {"/".join(IMAGE_SUFFIXES)} '
                                        f'image.')
            others = [f for f in files if not f.lower().endswith(IMAGE_SUFFIXES)]
            if others:
                print(f'note: {item}: left out {len(others)} file(s) not named as images: '
                      f'{", ".join(others[:5])}{", ..." if len(others) > 5 else ""}',
                      file=sys.stderr)
            images += found
        elif osp.isfile(item):
            images.append(item)
        else:
            raise FileNotFoundError(f'{item}: no such image or folder.')
    return list(dict.fromkeys(images))


def output_names(images: List[str]) -> Dict[str, str]:
    """A distinct output name per image: its file stem, or, for stems several inputs share, its
    path relative to the inputs' common folder with ``_`` for separators and dot."""
    stems = {image: osp.splitext(osp.basename(image))[0] for image in images}
    shared = {stem for stem, count in Counter(stems.values()).items() if count > 1}
    root = osp.commonpath([osp.dirname(osp.abspath(image)) for image in images]) if images else ''
    names = {}
    for image, stem in stems.items():
        name = stem
        if stem in shared:
            name = osp.relpath(osp.abspath(image), root).replace(os.sep, '_').replace('.', '_')
        while name in names.values():
            name += '_'
        names[image] = name
    return names


def read_image(image: str) -> np.ndarray:
    """The image as an (H, W, 3) BGR array; :class:`SkippedImage` if it cannot be decoded."""
    problem = image_file_problem(image)
    if problem:
        raise SkippedImage(f'{image}: {problem}.')
    try:
        array = mmcv.imread(image)
    except (OSError, ValueError, cv2.error) as error:
        raise SkippedImage(f'{image}: cannot be decoded ({str(error).splitlines()[0]}).') \
            from None
    if array is None:
        raise SkippedImage(f'{image}: cannot be decoded ({osp.getsize(image)} bytes).')
    return array


def mask_scale(predictor: Predictor, height: int, width: int) -> float:
    """The scale (<= 1) at which a detector's masks and picture of an image of ``height`` x
    ``width`` are made, so that they take at most ``MASK_BUDGET_PER_IMAGE_BYTE`` times the
    decoded image (or ``MASK_BUDGET_FLOOR``)."""
    if not predictor.task.predicts_instance_masks:
        return 1.0
    rcnn = predictor.cfg.model.get('test_cfg', {}).get('rcnn', {})
    instances = rcnn.get('max_per_img', 100) if hasattr(rcnn, 'get') else 100
    budget = max(MASK_BUDGET_PER_IMAGE_BYTE * 3 * height * width, MASK_BUDGET_FLOOR)
    needed = (instances + DRAWING_BYTES_PER_PIXEL) * height * width
    return 1.0 if needed <= budget else (budget / needed) ** 0.5


def predict_at_scale(predictor: Predictor, image: str, array: np.ndarray):
    """The prediction for ``array`` and the picture it is in the pixels of: the image itself,
    or, for a detector whose masks would not fit (:func:`mask_scale`), the image scaled down."""
    height, width = array.shape[:2]
    scale = mask_scale(predictor, height, width)
    if scale == 1.0:
        return predictor.predict(array), array
    reduced = mmcv.imresize(array, (max(1, round(width * scale)), max(1, round(height * scale))))
    print(f'\nnote: {image} is {width} x {height} pixels; its masks (and picture) are made at '
          f'{reduced.shape[1]} x {reduced.shape[0]}, so that they fit in memory (the JSON '
          f'records mask_scale; its boxes are in the image\'s pixels).', file=sys.stderr)
    return predictor.predict(reduced), reduced


def in_image_pixels(record: dict, picture: np.ndarray, array: np.ndarray) -> dict:
    """A detection record made on a scaled-down ``picture`` of ``array``, with its boxes and
    size in ``array``'s pixels and the masks' scale recorded (``mask_scale``)."""
    scale_y, scale_x = (array.shape[i] / picture.shape[i] for i in (0, 1))
    for instance in record['instances']:
        instance['bbox'] = [round(v * s, 2) for v, s in
                            zip(instance['bbox'], (scale_x, scale_y, scale_x, scale_y))]
    record.update(height=int(array.shape[0]), width=int(array.shape[1]),
                  mask_scale=round(picture.shape[0] / array.shape[0], 6))
    return record


def infer_image(predictor: Predictor, image: str, stem: str, out_dir: str,
                score_thr: float) -> dict:
    """Predicts one image and writes ``<stem>.png`` and ``<stem>.json``; returns the JSON dict.
    Raises :class:`SkippedImage` for an image that cannot be read or resized."""
    array = read_image(image)
    try:
        sample, picture = predict_at_scale(predictor, image, array)
    except cv2.error:
        height, width = array.shape[:2]
        raise SkippedImage(f'{image}: {width} x {height} pixels cannot be resized to the '
                           f"model's input (a side would shrink to 0 pixels).") from None
    predictor.draw(picture, sample, osp.join(out_dir, f'{stem}.png'), score_thr=score_thr)
    classes = predictor.model.dataset_meta['classes']
    record = predictor.task.to_json(sample, classes, image, score_thr)
    if picture is not array:
        record = in_image_pixels(record, picture, array)
    labels = predictor.task.label_map(sample)
    if labels is not None:
        dtype = np.uint8 if len(classes) <= 256 else np.uint16
        record['label_map'] = osp.join(out_dir, f'{stem}_labels.png')
        mmcv.imwrite(labels.astype(dtype), record['label_map'])
    with open(osp.join(out_dir, f'{stem}.json'), 'w') as f:
        json.dump(record, f, indent=1)
    return record


def main(argv=None) -> int:
    parser = command_parser('infer', __doc__)
    add_config(parser)
    parser.add_argument('checkpoint', help='checkpoint file or URL')
    parser.add_argument('inputs', nargs='+', help='images or folders of images')
    parser.add_argument('--out-dir', default=osp.join('work_dirs', 'infer'))
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='detectors: draw and list instances scoring at least this')
    parser.add_argument('--device', default='cpu', help='cpu, cuda or cuda:N')
    add_trust_checkpoint(parser)
    add_cfg_options(parser, 'model.test_cfg.rcnn.score_thr=0.1')
    args = parser.parse_args(argv)
    images = collect_images(args.inputs)
    cfg = load_config(args.config, args.cfg_options, check_data=False)
    predictor = Predictor(cfg, args.checkpoint, device=args.device,
                          trust_checkpoint=args.trust_checkpoint)
    os.makedirs(args.out_dir, exist_ok=True)
    names, skipped, progress = output_names(images), [], ProgressBar(len(images))
    for image in images:
        try:
            infer_image(predictor, image, names[image], args.out_dir, args.score_thr)
        except SkippedImage as error:
            skipped.append(str(error))
        progress.update()
    print(f'\n{len(images) - len(skipped)} image(s): pictures and JSON in '
          f'{osp.abspath(args.out_dir)}')
    for message in skipped:
        print(f'skipped {message}', file=sys.stderr)
    return 1 if skipped else 0

