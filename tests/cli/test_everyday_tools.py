"""infer, plot-logs, print-config, flops and train --tensorboard on the demo configs, as the
console runs them (in-process: the process is not the subject here); outputs are decoded and
checked, not just found."""
import contextlib
import io
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pycocotools.mask as mask_utils
import pytest
import torch

from convnext_dense import cli

# End-to-end runs of the commands: the slow tier (make test-all, CI).
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
DET = str(REPO / 'configs/demo/mask-rcnn_convnext-atto_toy.py')
SEG = str(REPO / 'configs/demo/upernet_convnext-atto_toy.py')
# An untrained detector scores every class about equally: keep all its boxes.
KEEP_ALL_BOXES = ['--cfg-options', 'model.test_cfg.rcnn.score_thr=0.0']


COMMANDS = {'train.py': 'train', 'infer.py': 'infer', 'plot_logs.py': 'plot-logs',
            'print_config.py': 'print-config', 'get_flops.py': 'flops'}


def run(tool: str, *args: str, cwd: Path, expect_ok: bool = True) -> str:
    """``tool args`` as the console runs it (through ``run_tool``), in this process, in ``cwd``;
    its stdout and stderr."""
    out = io.StringIO()
    with contextlib.chdir(cwd), contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        status = cli.run(COMMANDS[Path(tool).name], list(args))
    assert (status == 0) == expect_ok, out.getvalue()[-4000:]
    return out.getvalue()


@pytest.fixture
def trained(demo_runs):
    """The session's two-iteration runs of both demos (tests/conftest.py: validated at the end,
    the detector's with TensorBoard) and the folder they ran in (its ``data`` the toy data)."""
    return demo_runs['det'].parent, demo_runs


def test_tensorboard_switch_writes_event_files(trained):
    _, runs = trained
    assert list(runs['det'].rglob('events.out.tfevents.*'))
    assert not list(runs['seg'].rglob('events.out.tfevents.*'))


def test_infer_detector_writes_overlay_and_json(trained):
    root, runs = trained
    images = root / 'my_images'
    images.mkdir()
    for name in ('000000.png', '000001.png'):
        shutil.copy(root / 'data/toy_coco/val' / name, images / name)
    out_dir = root / 'infer_det'
    run(str(REPO / 'tools/infer.py'), DET, str(runs['det'] / 'iter_2.pth'), str(images),
        '--out-dir', str(out_dir), '--score-thr', '0.0', *KEEP_ALL_BOXES, cwd=root)
    for name in ('000000', '000001'):
        image = cv2.imread(str(images / f'{name}.png'))
        picture = cv2.imread(str(out_dir / f'{name}.png'))
        assert picture is not None and picture.shape == image.shape
        record = json.loads((out_dir / f'{name}.json').read_text())
        assert (record['height'], record['width']) == image.shape[:2]
        assert record['instances'], 'score_thr 0 keeps every box'
        scores = [i['score'] for i in record['instances']]
        assert scores == sorted(scores, reverse=True)
        for instance in record['instances']:
            assert instance['class'] in ('circle', 'square', 'triangle', 'cross')
            assert len(instance['bbox']) == 4
            mask = mask_utils.decode(dict(size=instance['mask']['size'],
                                          counts=instance['mask']['counts'].encode()))
            assert mask.shape == image.shape[:2]


def test_infer_loads_an_official_style_detector_checkpoint(trained):
    """The official ConvNeXt detectors are mmdet 2.x checkpoints: official backbone keys (ours),
    class names in meta['CLASSES'], an optimizer state beside the weights."""
    root, runs = trained
    ours = torch.load(runs['det'] / 'iter_2.pth', map_location='cpu', weights_only=False)
    classes = ['circle', 'square', 'triangle', 'cross']
    official = dict(meta=dict(CLASSES=classes, mmdet_version='2.11.0'),
                    state_dict=ours['state_dict'], optimizer=dict(state={}, param_groups=[]))
    torch.save(official, root / 'official_style.pth')
    out_dir = root / 'infer_official'
    run(str(REPO / 'tools/infer.py'), DET, str(root / 'official_style.pth'),
        str(root / 'data/toy_coco/val/000002.png'), '--out-dir', str(out_dir), '--score-thr',
        '0.0', *KEEP_ALL_BOXES, cwd=root)
    record = json.loads((out_dir / '000002.json').read_text())
    assert {i['class'] for i in record['instances']} <= set(classes)


def test_infer_segmentor_writes_colour_map_legend_labels_and_json(trained):
    root, runs = trained
    image_path = root / 'data/toy_ade20k/images/validation/toy_validation_000000.png'
    out_dir = root / 'infer_seg'
    run(str(REPO / 'tools/infer.py'), SEG, str(runs['seg'] / 'iter_2.pth'), str(image_path),
        '--out-dir', str(out_dir), cwd=root)
    image = cv2.imread(str(image_path))
    picture = cv2.imread(str(out_dir / 'toy_validation_000000.png'))
    # The colour map, then at least one legend row beneath it.
    assert picture.shape[1] == image.shape[1] and picture.shape[0] >= image.shape[0] + 22
    record = json.loads((out_dir / 'toy_validation_000000.json').read_text())
    assert sum(c['pixels'] for c in record['classes']) == image.shape[0] * image.shape[1]
    labels = cv2.imread(record['label_map'], cv2.IMREAD_UNCHANGED)
    assert labels.shape == image.shape[:2]
    assert set(np.unique(labels)) == {c['label'] for c in record['classes']}


def test_infer_names_a_missing_input(trained):
    root, runs = trained
    out = run(str(REPO / 'tools/infer.py'), SEG, str(runs['seg'] / 'iter_2.pth'),
              str(root / 'nope.png'), cwd=root, expect_ok=False)
    assert 'nope.png: no such image or folder' in out


def test_plot_logs_overlays_runs(trained):
    root, runs = trained
    out = root / 'curves.png'
    text = run(str(REPO / 'tools/plot_logs.py'), str(runs['det']), str(runs['seg']), '--keys',
               'loss', 'lr', '--out', str(out), cwd=root)
    assert 'loss [det]' in text and 'loss [seg]' in text
    assert cv2.imread(str(out)).shape == (400, 1000, 3)  # two panels of 500 x 400


def test_print_config_shows_the_merged_config(tmp_path):
    saved = tmp_path / 'merged.py'
    text = run(str(REPO / 'tools/print_config.py'), DET, '--cfg-options',
               'model.backbone.drop_path_rate=0.3', '--save', str(saved), cwd=tmp_path)
    assert "type='ConvNeXt'" in text and 'drop_path_rate=0.3' in text
    assert 'RPNHead' in text  # from mmdet's packaged base, merged in
    from mmengine.config import Config
    assert Config.fromfile(str(saved)).model.backbone.drop_path_rate == 0.3


def test_get_flops_of_convnext_t_matches_the_paper(tmp_path):
    out = tmp_path / 'flops.json'
    run(str(REPO / 'tools/get_flops.py'),
        str(REPO / 'configs/mask_rcnn/mask-rcnn_convnext-t_fpn_3x_coco.py'), '--shape', '224',
        '224', '--json', str(out), cwd=tmp_path)
    result = json.loads(out.read_text())
    assert result['backbone']['flops'] == pytest.approx(4.47e9, rel=0.02)
    assert result['backbone']['params'] == pytest.approx(27.8e6, rel=0.01)
    assert result['model']['params'] == pytest.approx(48e6, rel=0.02)  # published: 48M
    assert result['model']['flops'] > result['backbone']['flops']


def test_model_zoo_table_in_readme_is_up_to_date():
    from convnext_dense.cli import model_zoo
    assert model_zoo.main(['--check', '--readme', str(REPO / 'README.md'),
                           '--zoo-page', str(REPO / 'docs/model_zoo.md')]) == 0


def test_the_readme_is_a_front_door_and_its_links_resolve():
    readme = (REPO / 'README.md').read_text()
    assert len(readme.encode()) <= 20 * 1024
    import re
    for target in re.findall(r'\]\(((?:docs|convnext_dense)/[^)#]+)', readme):
        assert (REPO / target).exists(), target


def test_get_flops_of_non_square_inputs():
    from convnext_dense.cli.flops import complexity
    wide = complexity(SEG, 64, 128)
    tall = complexity(SEG, 128, 64)
    square = complexity(SEG, 64, 64)
    assert wide['shape'] == [64, 128]
    assert wide['backbone']['flops'] == tall['backbone']['flops']
    assert wide['backbone']['flops'] == pytest.approx(2 * square['backbone']['flops'], rel=0.02)
