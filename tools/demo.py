"""`make demo`: trains the Mask R-CNN and UperNet ConvNeXt-atto demos on the embedded toy data
(CPU, a few minutes each), prints COCO bbox / segm mAP and mIoU, and writes PNGs of
predictions beside the ground truth of a validation image, and of the training curves.

    python tools/demo.py [--work-dir work_dirs/demo] [--det-iters 700] [--seg-iters 1200]
"""
import argparse
import os.path as osp
import runpy
from typing import Dict, List

from mmengine.registry import DefaultScope

from convnext_dense.apis import Predictor
from convnext_dense.visualization import plot_log_curves

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMOS = {
    'detection': dict(config='mask-rcnn_convnext-atto_toy.py', metrics=('bbox_mAP', 'segm_mAP'),
                      metric_prefix='coco/', image='data/toy_coco/val/000000.png'),
    'segmentation': dict(config='upernet_convnext-atto_toy.py', metrics=('mIoU', ),
                         metric_prefix='', image='data/toy_ade20k/images/validation/'
                         'toy_validation_000000.png'),
}


def train(config: str, work_dir: str, iters: int):
    """Runs tools/train.py for ``iters`` iterations; returns the runner."""
    args = [config, '--work-dir', work_dir, '--cfg-options', f'train_cfg.max_iters={iters}',
            f'train_cfg.val_interval={iters}', f'param_scheduler.1.end={iters}']
    main = runpy.run_path(osp.join(REPO, 'tools', 'train.py'), run_name='demo')['main']
    return main(args)


def ground_truth_of(predictor: Predictor, image: str):
    """The validation sample of ``image``, packed by the config's pipeline (with its labels)."""
    with DefaultScope.overwrite_default_scope(predictor.task.scope):
        dataset = predictor.task.registry('DATASETS').build(predictor.cfg.val_dataloader.dataset)
    index = next(i for i in range(len(dataset))
                 if osp.abspath(dataset.get_data_info(i)['img_path']) == osp.abspath(image))
    sample = dataset[index]['data_samples']
    if 'gt_instances' in sample and hasattr(sample.gt_instances.bboxes, 'tensor'):
        # The pipeline packs mmdet's box type; its visualiser draws plain (N, 4) tensors.
        sample.gt_instances.bboxes = sample.gt_instances.bboxes.tensor
    return sample


def run_demo(task: str, work_root: str, iters: int) -> List[str]:
    demo = DEMOS[task]
    config = osp.join(REPO, 'configs', 'demo', demo['config'])
    work_dir = osp.join(work_root, osp.splitext(demo['config'])[0])
    runner = train(config, work_dir, iters)
    metrics: Dict[str, float] = {
        name: runner.message_hub.get_scalar(f"val/{demo['metric_prefix']}{name}").current()
        for name in demo['metrics']}

    predictor = Predictor(config, osp.join(work_dir, f'iter_{iters}.pth'))
    sample = predictor.predict(demo['image'])
    truth = ground_truth_of(predictor, demo['image'])
    for field in ('gt_instances', 'gt_sem_seg'):
        if field in truth:
            sample.set_field(truth.get(field), field)
    picture = osp.abspath(osp.join(work_root, f'{task}_predictions.png'))
    predictor.draw(demo['image'], sample, picture, score_thr=0.5, draw_gt=True)
    curves = osp.abspath(osp.join(work_root, f'{task}_curves.png'))
    plot_log_curves(work_dir, curves, keys=['loss', *demo['metrics']])
    summary = '   '.join(f'{name} {value:.3f}' for name, value in metrics.items())
    return [f'{demo["config"]} ({iters} iterations on the toy validation split): {summary}',
            f'  ground truth (left) vs predictions (right): {picture}',
            f'  training curves: {curves}']


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default=osp.join('work_dirs', 'demo'))
    parser.add_argument('--det-iters', type=int, default=700)
    parser.add_argument('--seg-iters', type=int, default=1200)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    report = run_demo('detection', args.work_dir, args.det_iters)
    report += run_demo('segmentation', args.work_dir, args.seg_iters)
    print('\n' + '\n'.join(report))


if __name__ == '__main__':
    main()
