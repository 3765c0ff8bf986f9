"""Predict on your own images with a trained (or official) detector / segmentor checkpoint.

    python tools/infer.py CONFIG CHECKPOINT INPUT [INPUT ...] [--out-dir work_dirs/infer]
                          [--score-thr 0.3] [--device cpu|cuda] [--cfg-options KEY=VALUE ...]

INPUT: image files or folders (their .jpg / .jpeg / .png / .bmp / .tif files). For each image
writes ``<name>.png`` (boxes, class names, scores and masks; or a colour map with a legend) and
``<name>.json`` (schema in ``convnext_dense/apis/prediction_json.py``); segmentors also write
``<name>_labels.png``, the class index of every pixel. CHECKPOINT may be a file or URL, ours or
an official ConvNeXt mmdet / mmseg checkpoint.
"""
import argparse
import json
import os
import os.path as osp
from typing import List

import mmcv
import numpy as np
from mmengine.config import DictAction
from mmengine.utils import ProgressBar

from convnext_dense.apis import Predictor
from convnext_dense.engine.config import load_config
from convnext_dense.tasks import SEGMENTATION

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff')


def collect_images(inputs: List[str]) -> List[str]:
    """Image files named directly or found in named folders (sorted); errors name what is
    missing or holds no image."""
    images = []
    for item in inputs:
        if osp.isdir(item):
            found = sorted(osp.join(item, f) for f in os.listdir(item)
                           if f.lower().endswith(IMAGE_SUFFIXES))
            if not found:
                raise FileNotFoundError(f'{item}: folder holds no {"/".join(IMAGE_SUFFIXES)} '
                                        f'image.')
            images += found
        elif osp.isfile(item):
            images.append(item)
        else:
            raise FileNotFoundError(f'{item}: no such image or folder.')
    return images


def infer_image(predictor: Predictor, image: str, out_dir: str, score_thr: float) -> dict:
    """Predicts one image and writes its picture and JSON; returns the JSON dict."""
    stem = osp.splitext(osp.basename(image))[0]
    sample = predictor.predict(image)
    predictor.draw(image, sample, osp.join(out_dir, f'{stem}.png'), score_thr=score_thr)
    classes = predictor.model.dataset_meta['classes']
    record = predictor.task.to_json(sample, classes, image, score_thr)
    if predictor.task is SEGMENTATION:
        labels = sample.pred_sem_seg.data[0].cpu().numpy()
        dtype = np.uint8 if len(classes) <= 256 else np.uint16
        record['label_map'] = osp.join(out_dir, f'{stem}_labels.png')
        mmcv.imwrite(labels.astype(dtype), record['label_map'])
    with open(osp.join(out_dir, f'{stem}.json'), 'w') as f:
        json.dump(record, f, indent=1)
    return record


def main(argv=None) -> List[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', help='checkpoint file or URL')
    parser.add_argument('inputs', nargs='+', help='images or folders of images')
    parser.add_argument('--out-dir', default=osp.join('work_dirs', 'infer'))
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='detectors: draw and list instances scoring at least this')
    parser.add_argument('--device', default='cpu', help='cpu, cuda or cuda:N')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, metavar='KEY=VALUE',
                        help='override config entries, e.g. model.test_cfg.rcnn.score_thr=0.1')
    args = parser.parse_args(argv)
    images = collect_images(args.inputs)
    cfg = load_config(args.config, args.cfg_options, check_data=False)
    predictor = Predictor(cfg, args.checkpoint, device=args.device)
    os.makedirs(args.out_dir, exist_ok=True)
    records, progress = [], ProgressBar(len(images))
    for image in images:
        records.append(infer_image(predictor, image, args.out_dir, args.score_thr))
        progress.update()
    print(f'\n{len(images)} image(s): pictures and JSON in {osp.abspath(args.out_dir)}')
    return records


if __name__ == '__main__':
    main()
