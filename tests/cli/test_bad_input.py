"""Bad input, as a careless user gives it to the tools, on copies of the toy data and demo
configs: each case ends in one line ``error: ...`` naming the file, record or value at fault,
exit status 2, and no traceback. (What the audits and checks find is unit-tested beside their
modules; here the tools' end of it.)"""
import contextlib
import importlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import cv2
import mmcv
import numpy as np
import pytest
import torch
from mmengine.config import Config
from PIL import Image

from convnext_dense.tasks import DETECTION

REPO = Path(__file__).resolve().parents[2]
DET = REPO / 'configs/demo/mask-rcnn_convnext-atto_toy.py'
SEG = REPO / 'configs/demo/upernet_convnext-atto_toy.py'
ONE_ITER = ['--cfg-options', 'train_cfg.max_iters=1', 'train_cfg.val_interval=1']


@pytest.fixture
def here(toy_data, tmp_path) -> Path:
    """A directory holding a private copy of the toy data, where the tools run."""
    shutil.copytree(toy_data, tmp_path / 'data')
    return tmp_path


def tool(cwd: Path, name: str, *args, env: dict = None) -> subprocess.CompletedProcess:
    """``tools/<name> args`` run in ``cwd``: in this process, through the console's
    ``run_tool`` (a traceback fails the test as it would the user's run), or, where the
    environment is the subject (``env``), in a fresh process."""
    if env is not None:
        return subprocess.run([sys.executable, str(REPO / 'tools' / name), *map(str, args)],
                              cwd=cwd, capture_output=True, text=True, timeout=600,
                              env=dict(os.environ, **env))
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out), \
            contextlib.redirect_stderr(err):
        patch.chdir(cwd)
        status = run_in_process(name, *args)
    return subprocess.CompletedProcess(name, status, out.getvalue(), err.getvalue())


def assert_one_line_error(result: subprocess.CompletedProcess, *expected: str) -> str:
    assert result.returncode == 2, result.stderr[-3000:]
    assert 'Traceback' not in result.stderr, result.stderr[-3000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith('error: ')
    for part in expected:
        assert part in last, last
    return last


def edit_json(path: Path, edit) -> None:
    content = json.loads(path.read_text())
    edit(content)
    path.write_text(json.dumps(content))


def test_syntax_error_in_a_base_config_names_file_and_line(here):
    (here / 'base.py').write_text("_base_ = '%s'\nmodel = dict(\n" % DET)
    (here / 'top.py').write_text("_base_ = './base.py'\n")
    assert_one_line_error(tool(here, 'train.py', here / 'top.py'),
                          f'{here / "base.py"}:2: syntax error in config')


def rename_category(content):
    content['categories'][0]['name'] = 'disc'


def empty_segmentation(content):
    content['annotations'][3]['segmentation'] = []


def one_point_polygon(content):
    content['annotations'][5]['segmentation'] = [[10.0, 10.0]]


def nan_box(content):
    content['annotations'][7]['bbox'][2] = float('inf')


@pytest.mark.parametrize('split, edit, expected', [
    ('train', rename_category, ["the config's classes ['circle'] are not category names"]),
    ('train', empty_segmentation, ['1 with no segmentation', 'ids 4']),
    ('val', one_point_polygon, ['1 with polygon with under 3 points', 'ids 6']),
    ('train', nan_box, ['1 with non-finite bbox values: ids 8']),
])
def test_coco_annotations_mmdet_cannot_use_are_named_before_training(here, split, edit,
                                                                     expected):
    ann_file = here / f'data/toy_coco/annotations/{split}.json'
    edit_json(ann_file, edit)
    result = tool(here, 'train.py', DET, '--work-dir', here / 'work', *ONE_ITER)
    assert_one_line_error(result, f'data/toy_coco/annotations/{split}.json', *expected)
    assert not (here / 'work').exists() or not list((here / 'work').rglob('*.pth'))


@pytest.mark.parametrize('content, expected', [
    (b'', 'empty file, 0 bytes'),
    (b'this is not an image\n', "not an image: starts with b'this is '"),
])
def test_an_unreadable_validation_image_is_named_before_training(here, content, expected):
    image = sorted((here / 'data/toy_coco/val').glob('*.png'))[3]
    image.write_bytes(content)
    result = tool(here, 'train.py', DET, '--work-dir', here / 'work', *ONE_ITER)
    assert_one_line_error(result, 'val dataset',
                          f'{image.relative_to(here)} ({expected})')


def test_every_training_image_unreadable_is_one_line(here):
    for image in (here / 'data/toy_coco/train').glob('*.png'):
        image.write_bytes(b'not an image')
    result = tool(here, 'train.py', DET, '--work-dir', here / 'work', *ONE_ITER)
    assert_one_line_error(result, '240 of 240 samples of the train dataset',
                          'not an image')


def write_label(path: Path, label: np.ndarray) -> None:
    assert cv2.imwrite(str(path), label)


@pytest.mark.parametrize('change, expected', [
    (lambda label: np.where(label > 0, 200, label).astype(np.uint8),
     'label value(s) [200] in the file are not classes of this 5-class dataset'),
    (lambda label: np.stack([label] * 3, axis=-1), 'expected one channel'),
    (lambda label: label[:100], 'label map is 160 x 100 pixels'),
])
def test_a_bad_ade20k_label_map_names_its_file(here, change, expected):
    labels = sorted((here / 'data/toy_ade20k/annotations/training').glob('*.png'))
    for path in labels:  # every one: the first batch drawn meets one
        write_label(path, change(cv2.imread(str(path), cv2.IMREAD_UNCHANGED)))
    result = tool(here, 'train.py', SEG, '--work-dir', here / 'work', *ONE_ITER)
    last = assert_one_line_error(result, expected)
    assert last.startswith('error: data/toy_ade20k/annotations/training/toy_training_')


@pytest.fixture(scope='module')
def checkpoints(toy_data, tmp_path_factory):
    """A detector's and a segmentor's state, saved as Runner checkpoints are (untrained)."""
    from convnext_dense.apis import Predictor
    root = tmp_path_factory.mktemp('checkpoints')
    saved = {}
    for name, config in (('det', DET), ('seg', SEG)):
        model = Predictor(str(config)).model
        saved[name] = root / f'{name}.pth'
        torch.save({'state_dict': model.state_dict(),
                    'meta': {'dataset_meta': dict(model.dataset_meta)}}, saved[name])
    return saved


@pytest.mark.parametrize('tool_name', ['test.py', 'infer.py'])
def test_a_segmentor_checkpoint_on_a_detector_config_is_refused(here, checkpoints, tool_name):
    image = sorted((here / 'data/toy_coco/val').glob('*.png'))[0]
    extra = [image, '--out-dir', here / 'out'] if tool_name == 'infer.py' else \
        ['--work-dir', here / 'work']
    result = tool(here, tool_name, DET, checkpoints['seg'], *extra)
    assert_one_line_error(result, f'Checkpoint {checkpoints["seg"]} does not fit MaskRCNN',
                          'missing keys', "unexpected keys", "'decode_head.")


def test_resume_from_another_models_checkpoint_is_refused(here, checkpoints):
    work = here / 'work'
    work.mkdir()
    segmentor = torch.load(checkpoints['seg'], weights_only=True)
    segmentor['meta'].update(epoch=0, iter=4)  # a training checkpoint, of another model
    segmentor['message_hub'] = dict(log_scalars={}, runtime_info={}, resumed_keys={})
    torch.save(segmentor, work / 'iter_4.pth')
    result = tool(here, 'train.py', DET, '--work-dir', work, '--resume', *ONE_ITER)
    assert_one_line_error(result, 'iter_4.pth does not fit MaskRCNN')


def test_infer_skips_unreadable_and_unresizable_images_and_keeps_colliding_names(
        here, checkpoints):
    images = here / 'images'
    for folder in ('a', 'b'):
        (images / folder).mkdir(parents=True)
    good = sorted((here / 'data/toy_coco/val').glob('*.png'))[0]
    shutil.copy(good, images / 'a/x.png')
    shutil.copy(good, images / 'b/x.png')
    shutil.copy(good, images / 'x.jpg')  # same stem, other extension
    (images / 'corrupt.png').write_bytes(b'')
    cv2.imwrite(str(images / 'strip.png'), np.zeros((1, 2000, 3), np.uint8))
    result = tool(here, 'infer.py', DET, checkpoints['det'], images / 'a/x.png',
                  images / 'b/x.png', images / 'x.jpg', images / 'corrupt.png',
                  images / 'strip.png', '--out-dir', here / 'out')
    assert result.returncode == 1, result.stderr[-3000:]
    assert 'Traceback' not in result.stderr
    assert f'skipped {images / "corrupt.png"}: empty file, 0 bytes.' in result.stderr
    assert f'skipped {images / "strip.png"}: 2000 x 1 pixels cannot be resized' in result.stderr
    written = sorted(p.name for p in (here / 'out').glob('*.json'))
    assert written == ['a_x_png.json', 'b_x_png.json', 'x_jpg.json']


@pytest.mark.slow
def test_infer_on_cuda_without_a_gpu_is_one_line(here, checkpoints):
    image = sorted((here / 'data/toy_coco/val').glob('*.png'))[0]
    no_gpu = dict(CUDA_VISIBLE_DEVICES='')  # as on a machine without one, GPU or not here
    assert_one_line_error(tool(here, 'infer.py', DET, checkpoints['det'], image, '--device',
                               'cuda', env=no_gpu), "device 'cuda': no CUDA device is available")


@pytest.mark.parametrize('content, expected', [
    (os.urandom(64), 'not a PyTorch checkpoint'),
    (b'hello\n', 'not a PyTorch checkpoint'),
    (b'(tt', 'not a PyTorch checkpoint (IndexError'),  # an unpickler stack underflow
    (b'', 'not a PyTorch checkpoint (the file is empty or truncated)'),
    ('zip', 'not a PyTorch checkpoint'),
    ('list', 'holds a list, not a checkpoint'),
])
def test_convert_checkpoint_names_a_file_that_is_not_a_checkpoint(tmp_path, content, expected):
    source = tmp_path / 'model.pth'
    if content == 'zip':
        shutil.make_archive(str(tmp_path / 'model'), 'zip', REPO / 'tools')
        (tmp_path / 'model.zip').rename(source)
    elif content == 'list':
        torch.save([1, 2, 3], source)
    else:
        source.write_bytes(content)
    result = tool(tmp_path, 'convert_checkpoint.py', source, tmp_path / 'out.pth')
    assert_one_line_error(result, f'error: {source}: {expected}')
    assert not (tmp_path / 'out.pth').exists()


def test_plot_logs_names_a_binary_log(tmp_path):
    log = tmp_path / 'run/vis_data/scalars.json'
    log.parent.mkdir(parents=True)
    log.write_bytes(b'\x89PNG\r\n\x1a\n\x00\xff')
    assert_one_line_error(tool(tmp_path, 'plot_logs.py', tmp_path), f'{log}: not a text log')


def load_tool(name: str):
    return importlib.import_module(f'convnext_dense.cli.{name}')


def test_masks_of_a_huge_image_are_made_at_a_scale_that_fits():
    """8000 x 8000 (183 MiB decoded): its 100 masks took 6 GiB at full size and drawing them
    more (10.2 GB peak for one image); now masks and picture take at most 4 times the decoded
    image (or 512 MiB, which a 1333 x 800 image stays within)."""
    infer = load_tool('infer')
    predictor = SimpleNamespace(task=DETECTION, cfg=Config(dict(model=dict(
        test_cfg=dict(rcnn=dict(max_per_img=100))))))
    scale = infer.mask_scale(predictor, 8000, 8000)
    cost = (100 + infer.DRAWING_BYTES_PER_PIXEL) * (8000 * scale) ** 2
    assert cost <= 4 * 3 * 8000 * 8000 * 1.001 and scale < 0.25
    assert infer.mask_scale(predictor, 800, 1333) == 1.0


def test_a_huge_images_record_keeps_the_image_pixels_and_says_the_mask_scale(
        tmp_path, monkeypatch, capsys):
    from convnext_dense.apis import Predictor
    infer = load_tool('infer')
    monkeypatch.setitem(infer.infer_image.__globals__, 'MASK_BUDGET_FLOOR', 0)
    image = tmp_path / 'big.png'
    cv2.imwrite(str(image), np.random.default_rng(0).integers(0, 255, (600, 800, 3), np.uint8))
    predictor = Predictor(str(DET))
    scale = infer.mask_scale(predictor, 600, 800)  # with no floor: 12 bytes a pixel
    assert scale < 1
    record = infer.infer_image(predictor, str(image), 'big', str(tmp_path), 0.0)
    assert (record['height'], record['width']) == (600, 800)
    assert record['instances'], 'the untrained model gave no instance to check'
    reduced = [round(600 * scale), round(800 * scale)]
    assert record['mask_scale'] == pytest.approx(reduced[0] / 600)
    assert all(i['mask']['size'] == reduced for i in record['instances'])
    assert max(i['bbox'][2] for i in record['instances']) > reduced[1]  # in the image's pixels
    assert cv2.imread(str(tmp_path / 'big.png')).shape[:2] == tuple(reduced)
    assert f'its masks (and picture) are made at {reduced[1]} x {reduced[0]}' in \
        capsys.readouterr().err


@pytest.mark.slow
def test_generating_toy_data_says_where(tmp_path):
    script = ("from convnext_dense.datasets import ensure_toy_coco; "
              "ensure_toy_coco('data/toy', splits={'train': (2, 0)})")
    result = subprocess.run([sys.executable, '-c', script], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300)
    assert (f"Generating the toy COCO dataset (2 images) in {tmp_path / 'data/toy'} "
            f"(data_root='data/toy', relative to the current directory)") in result.stdout


COMMAND_OF_TOOL = {'get_flops.py': 'flops', 'print_config.py': 'print-config',
                   'convert_checkpoint.py': 'convert', 'plot_logs.py': 'plot-logs'}


def run_in_process(name: str, *args) -> int:
    """``tools/<name> args`` as the console runs its command (through ``run_tool``), in this
    process: for bad input refused before anything heavy runs."""
    from convnext_dense.cli import run
    command = COMMAND_OF_TOOL.get(name, name.removesuffix('.py'))
    return run(command, [str(a) for a in args])


def one_line_from(capsys, status: int, *expected: str) -> str:
    err = capsys.readouterr().err
    assert status == 2, err
    lines = [line for line in err.strip().splitlines() if line.startswith('error: ')]
    assert len(lines) == 1 and 'Traceback' not in err, err
    for part in expected:
        assert part in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize('name, expected', [
    ('mmdet::../../../../../../etc/passwd', 'leads out of the configs mmdet ships'),
    ('mmdet::../../../convnext_dense/configs/x.py', 'leads out of the configs mmdet ships'),
    ('::configs/x.py', 'no package before "::"'),
    ('/etc/passwd', '/etc/passwd: not a config file'),
])
def test_config_names_are_confined_and_checked(capsys, name, expected):
    one_line_from(capsys, run_in_process('print_config.py', name), expected)


def test_a_custom_import_that_does_not_import_is_named(capsys, tmp_path):
    config = tmp_path / 'extra_import.py'
    config.write_text(f"_base_ = {str(DET)!r}\ncustom_imports = dict(imports=['convnext_dense', "
                      "'no_such_module_xyz'], allow_failed_imports=False)\n")
    one_line_from(capsys, run_in_process('print_config.py', config),
                  "custom_imports names 'no_such_module_xyz', which does not import")


def test_a_scheduler_error_names_the_option_that_caused_it(capsys):
    one_line_from(capsys, run_in_process('train.py', DET, '--cfg-options',
                                         'param_scheduler.1.end=30'),
                  'param_scheduler.1 (CosineAnnealingLR): end should be larger than begin',
                  '(set by --cfg-options param_scheduler.1.end=30)')


def test_every_tool_reports_bad_input_in_one_line(capsys):
    """get_flops's image-size refusal was buried at the end of a traceback (it did not go
    through run_tool; now every tool does)."""
    one_line_from(capsys, run_in_process('get_flops.py', DET, '--shape', 16, 16),
                  'ConvNeXt needs images of at least 32 x 32 pixels')


def onnx_file_with(path: Path, metadata_json: str) -> Path:
    """An ONNX file whose recorded metadata is ``metadata_json`` (read before its graph)."""
    import onnx
    from convnext_dense.deploy.metadata import METADATA_KEY
    model = onnx.helper.make_model(onnx.helper.make_graph([], 'empty', [], []))
    entry = model.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, metadata_json
    onnx.save(model, str(path))
    return path


ONE_CLASS = json.dumps(dict(task='detection', classes=['person'], palette=[[1, 2, 3]],
                            input=dict(shape=None), mask_thr_binary=0.5))


@pytest.mark.parametrize('tool_name', ['test.py', 'infer.py'])
@pytest.mark.parametrize('metadata, expected', [
    ('{"task": "detection", oops}', "metadata is not JSON"),
    (ONE_CLASS, 'exported for 1 classes (person), and the config has 4'),
])
def test_an_exported_model_whose_metadata_does_not_fit_is_named(capsys, tmp_path, tool_name,
                                                                 metadata, expected):
    model = onnx_file_with(tmp_path / 'model.onnx', metadata)
    extra = ([REPO / 'docs/results/demo/detection_grid.png', '--out-dir', tmp_path / 'out']
             if tool_name == 'infer.py' else ['--work-dir', tmp_path / 'work'])
    one_line_from(capsys, run_in_process(tool_name, DET, model, *extra), f'{model}: ',
                  expected)


def test_infer_takes_every_image_format_opencv_reads_from_a_folder_and_names_the_rest(
        tmp_path, capsys):
    """A GIF in a folder was left out without a word (named alone, it was predicted)."""
    from convnext_dense.cli.infer import collect_images
    image = np.full((40, 50, 3), 120, np.uint8)
    for name in ('a.png', 'b.gif', 'c.webp'):
        Image.fromarray(image).save(tmp_path / name)
    (tmp_path / 'notes.txt').write_text('not an image')
    found = collect_images([str(tmp_path)])
    assert [Path(p).name for p in found] == ['a.png', 'b.gif', 'c.webp']
    assert all(mmcv.imread(p) is not None for p in found)
    assert 'left out 1 file(s) not named as images: notes.txt' in capsys.readouterr().err


def test_an_export_shape_beyond_memory_is_refused_naming_the_shape(capsys, tmp_path):
    one_line_from(capsys, run_in_process('export.py', DET, tmp_path / 'none.pth', '--out',
                                         tmp_path / 'm.onnx', '--shape', 100000, 100000),
                  '--shape 100000 100000: tracing at that size needs more than 223.5 GiB')
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize('work_dir, expected', [
    ('a_file/run', 'a_file is a file, not a folder'),
    ('/sys/convnext_dense_run', 'cannot write there'),  # read-only for root too
])
def test_a_work_dir_that_cannot_be_written_is_one_line(capsys, tmp_path, monkeypatch,
                                                       work_dir, expected):
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'a_file').write_text('')
    one_line_from(capsys, run_in_process('train.py', DET, '--work-dir', work_dir), expected)
