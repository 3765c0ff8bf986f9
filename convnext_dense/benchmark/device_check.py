"""The one-shot device check: what a lent GPU must prove, in one call, within a time budget.

Checks run in priority order; none starts once the budget is spent (the ones left are recorded
as skipped). Each writes one JSON line to ``checks.jsonl`` (name, passed, seconds, figures or
error, and the full benchmark report where there is one), and a table of them all ends up in
``summary.md`` and on stdout. With ``device='cpu'`` the same checks run at reduced sizes, so a
test keeps the driver working where no GPU is (``tools/gpu/README.md``).

1. ``resume``: the Mask R-CNN demo killed after iteration 4 and resumed ends with the losses
   and weights of an uninterrupted run (CUDA: under ``--amp``).
2. ``roi_align_{fp32,fp16,bf16}``: RoI extraction (forward and backward) of each kernel against
   float64 on the CPU, and its speed beside mmdet's extractor.
3. ``mmcv_ext_kernels``: the kernels we serve under ``mmcv._ext``, called through
   ``mmcv.ops`` on the device (RoIAlign forward and backward in fp32 / fp16 / bf16; NMS)
   against float64 on the CPU. (soft-NMS runs on the CPU, as mmcv's does.)
   ``soft_nms``: soft-NMS calls per second beside torchvision's NMS.
4. ``with_cp``: the backbone with gradient checkpointing gives the outputs and gradients of the
   one without.
5. ``backbone_*``: ConvNeXt-T and V2-T, ours against timm, torchvision and mmpretrain, in fp32
   (TF32), bf16 and fp16, channels_last, at batch 64 and 256 (outputs checked equal).
6. ``model_*``: training steps (AMP) and inference of Mask R-CNN, Cascade Mask R-CNN and
   UperNet (ours beside the stock mmdet / mmseg ConvNeXt-T configs), with peak memory.
7. ``compiled_*``: eager beside ``torch.compile`` in fp16 and bf16 autocast: ConvNeXt-T and
   V2-T inference in one run (ours and timm, batch 256, as timm's table), then the three T models'
   training steps and inference (backbone and neck compiled), with compile time and graph
   breaks.

The published figures they are read against are :data:`ANCHORS`.
"""
import fnmatch
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Union

import torch

from ..engine.config import CONFIG_ROOT

# Published figures the GPU figures are read against (source in each entry).
ANCHORS = {
    'backbone_v1_fp32_b64': ('ConvNeXt-T paper, A100, TF32 + channels_last: 1943.5 img/s', 1943.5),
    'backbone_v1_bf16_b256': ('timm, RTX 4090, convnext_tiny AMP eager: 4815 img/s', 4815.0),
    'compiled_backbone': ('timm, RTX 4090, AMP, eager / compiled: convnext_tiny 4815 / 6698, '
                          'convnextv2_tiny 2142 / 6254 img/s', 6698.0),
    'model_mask-rcnn_train': ('mmdet Mask R-CNN ConvNeXt-T, training memory: 7.3 GB', 7.3 * 1024),
    'model_upernet_infer': ('mmseg UperNet ConvNeXt-T, V100: 19.9 FPS', 19.9),
}
DTYPE_OF = dict(fp32=torch.float32, fp16=torch.float16, bf16=torch.bfloat16)
ROI_ERROR_BOUND = 2e-2  # relative to float64: a few times a bf16 output's rounding
DEMO = osp.join(CONFIG_ROOT, 'demo/mask-rcnn_convnext-atto_toy.py')
PAPER_CONFIGS = {
    'mask-rcnn': (osp.join(CONFIG_ROOT, 'mask_rcnn/mask-rcnn_convnext-t_fpn_3x_coco.py'),
                  'mmdet::convnext/mask-rcnn_convnext-t-p4-w7_fpn_amp-ms-crop-3x_coco.py'),
    'cascade-mask-rcnn': (
        osp.join(CONFIG_ROOT, 'cascade_mask_rcnn/cascade-mask-rcnn_convnext-t_fpn_3x_coco.py'),
        'mmdet::convnext/cascade-mask-rcnn_convnext-t-p4-w7_fpn_4conv1fc-giou_amp-ms-crop-3x_coco.py'),
    'upernet': (osp.join(CONFIG_ROOT, 'upernet/upernet_convnext-t_8xb2-160k_ade20k-512x512.py'),
                'mmseg::convnext/convnext-tiny_upernet_8xb2-amp-160k_ade20k-512x512.py'),
}
DEMO_CONFIGS = {
    'mask-rcnn': (DEMO, ),
    'cascade-mask-rcnn': (osp.join(CONFIG_ROOT, 'demo/cascade-mask-rcnn_convnext-atto_toy.py'), ),
    'upernet': (osp.join(CONFIG_ROOT, 'demo/upernet_convnext-atto_toy.py'), ),
}


@dataclass
class Sizes:
    """How big each check is on a device: the GPU's figures, or a CPU run that only proves the
    driver works."""
    resume_iters: int
    roi_count: int
    roi_img_size: int
    roi_channels: int
    nms_count: int
    backbone_arch: str
    backbone_img_size: int
    backbone_batches: tuple
    backbone_impls: tuple
    model_configs: dict
    model_img_size: Dict[str, int]
    model_amp_dtype: str
    backbone_dtypes: tuple
    rounds: int
    compiled_dtypes: tuple
    compiled_backbone_impls: tuple  # implementations, V2 as NAME-v2 (backbone.py)
    compiled_models: tuple  # (family, mode) pairs
    compile: Union[bool, dict]  # the benchmarks' compile setting (torch.compile options)


SIZES = {
    'cuda': Sizes(resume_iters=8, roi_count=1024, roi_img_size=800, roi_channels=256,
                  nms_count=2000, backbone_arch='tiny', backbone_img_size=224,
                  backbone_batches=(64, 256), backbone_impls=('ours', 'timm', 'torchvision',
                                                              'mmpretrain'),
                  model_configs=PAPER_CONFIGS,
                  model_img_size=dict(train=1024, infer=800), model_amp_dtype='fp16',
                  backbone_dtypes=('fp32', 'bf16', 'fp16'), rounds=10,
                  compiled_dtypes=('fp16', 'bf16'),
                  compiled_backbone_impls=('ours', 'timm', 'ours-v2', 'timm-v2'),
                  compiled_models=tuple((family, mode) for family in PAPER_CONFIGS
                                        for mode in ('train', 'infer')),
                  compile=True),
    'cpu': Sizes(resume_iters=4, roi_count=64, roi_img_size=256, roi_channels=16, nms_count=300,
                 backbone_arch='atto', backbone_img_size=64, backbone_batches=(2, ),
                 backbone_impls=('ours', 'timm'), model_configs=DEMO_CONFIGS,
                 model_img_size=dict(train=128, infer=128), model_amp_dtype='bf16',
                 # fp16 autocast on a CPU is no path anyone trains on, and takes minutes
                 backbone_dtypes=('fp32', 'bf16'), rounds=2, compiled_dtypes=('bf16', ),
                 # One check of each kind proves the driver; dynamo's capture without
                 # inductor's code generation, which costs minutes on 2 cores (inductor on CPU
                 # is proven by tests/engine/test_compile.py).
                 compiled_backbone_impls=('ours', 'ours-v2'),
                 compiled_models=(('mask-rcnn', 'train'), ),
                 compile=dict(backend='eager')),
}


@dataclass
class CheckResult:
    name: str
    passed: Optional[bool]  # None: skipped
    seconds: float = 0.0
    figures: dict = field(default_factory=dict)
    error: Optional[str] = None
    report: Optional[dict] = None


def plan(device: str) -> List[tuple]:
    """(name, function of (device, sizes, work dir) -> (passed, figures, report)), in priority
    order."""
    checks = [('resume', check_resume)]
    for dtype in ('fp32', 'fp16', 'bf16'):
        checks.append((f'roi_align_{dtype}', _bound(check_roi_align, dtype=dtype)))
    checks += [('mmcv_ext_kernels', check_mmcv_ext_kernels), ('soft_nms', check_soft_nms),
               ('with_cp', check_with_cp)]
    sizes = SIZES[_kind(device)]
    for use_grn in (False, True):
        for dtype in sizes.backbone_dtypes:
            for batch in sizes.backbone_batches:
                name = f'backbone_v{2 if use_grn else 1}_{dtype}_b{batch}'
                checks.append((name, _bound(check_backbone, use_grn=use_grn, dtype=dtype,
                                            batch=batch)))
    for family in PAPER_CONFIGS:
        for mode in ('train', 'infer'):
            checks.append((f'model_{family}_{mode}', _bound(check_model, family=family,
                                                             mode=mode)))
    for dtype in sizes.compiled_dtypes:
        checks.append((f'compiled_backbone_{dtype}', _bound(check_compiled_backbone, dtype=dtype)))
    for dtype in sizes.compiled_dtypes:
        for family, mode in sizes.compiled_models:
            checks.append((f'compiled_model_{family}_{mode}_{dtype}',
                           _bound(check_model, family=family, mode=mode, dtype=dtype,
                                  compiled=True)))
    return checks


def run_checks(device: str, out_dir: str, budget_s: float,
               only: Optional[List[str]] = None) -> List[CheckResult]:
    """Runs :func:`plan`'s checks (those matching a name or shell pattern of ``only``, if given)
    until ``budget_s``; writes ``checks.jsonl`` and ``summary.md`` into ``out_dir``."""
    os.makedirs(out_dir, exist_ok=True)
    sizes = SIZES[_kind(device)]
    start, results = time.monotonic(), []
    lines = osp.join(out_dir, 'checks.jsonl')
    open(lines, 'w').close()
    for name, check in plan(device):
        if only and not any(fnmatch.fnmatchcase(name, pattern) for pattern in only):
            continue
        if time.monotonic() - start > budget_s:
            result = CheckResult(name, None, error=f'skipped: the {budget_s:.0f}-s budget was spent')
        else:
            print(f'[{time.monotonic() - start:6.0f} s] {name} ...', flush=True)
            began = time.monotonic()
            try:
                passed, figures, report = check(device, sizes, osp.join(out_dir, 'work', name))
                result = CheckResult(name, passed, figures=figures, report=report)
            except Exception as error:  # a failing check must not stop the others
                result = CheckResult(name, False, error=f'{type(error).__name__}: {error}'[:2000])
            result.seconds = time.monotonic() - began
            if device.startswith('cuda'):
                torch.cuda.empty_cache()
        results.append(result)
        with open(lines, 'a') as f:
            f.write(json.dumps(dict(result.__dict__, device=describe(device)), default=str) + '\n')
    summary = format_summary(results, device)
    with open(osp.join(out_dir, 'summary.md'), 'w') as f:
        f.write(summary)
    print(summary)
    return results


def describe(device: str) -> dict:
    """The device, and the versions the figures depend on."""
    from .report import environment
    name = torch.cuda.get_device_name(device) if device.startswith('cuda') else 'cpu'
    return dict(device=device, name=name, environment=environment())


def format_summary(results: List[CheckResult], device: str) -> str:
    rows = [f'# Device check on {describe(device)["name"]}', '',
            '| check | result | s | figures | anchor |', '|---|---|---|---|---|']
    for r in results:
        state = 'skipped' if r.passed is None else ('ok' if r.passed else 'FAILED')
        shown = r.error or ', '.join(f'{k} {_fmt(v)}' for k, v in r.figures.items())
        anchor = next((text for key, (text, _) in ANCHORS.items() if r.name.startswith(key)), '')
        rows.append(f'| {r.name} | {state} | {r.seconds:.0f} | {shown} | {anchor} |')
    return '\n'.join(rows) + '\n'


def check_resume(device: str, sizes: Sizes, work: str):
    """Kill after iteration ``iters/2`` and resume: losses and final weights as uninterrupted."""
    os.makedirs(work, exist_ok=True)
    iters, half = sizes.resume_iters, sizes.resume_iters // 2
    extra = ['--amp'] if device.startswith('cuda') else []
    options = ['--seed', '0', '--deterministic', *extra, '--cfg-options',
               f'train_cfg.max_iters={iters}', f'train_cfg.val_begin={iters + 1}',
               f'default_hooks.checkpoint.interval={half}', 'default_hooks.logger.interval=1',
               'default_hooks.checkpoint.max_keep_ckpts=-1']

    def train(name: str, *more: str) -> list:
        return [sys.executable, '-m', 'convnext_dense', 'train', DEMO, '--work-dir',
                osp.join(work, name), *more, *options]

    env = dict(os.environ, PYTHONUNBUFFERED='1')
    subprocess.run(train('uninterrupted'), cwd=work, env=env, check=True, capture_output=True,
                   timeout=600)
    killed = subprocess.Popen(train('killed'), cwd=work, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    checkpoint = osp.join(work, 'killed', f'iter_{half}.pth')
    while not osp.exists(checkpoint):
        if killed.poll() is not None:
            raise RuntimeError(f'the run to kill ended (status {killed.returncode}) before '
                               f'iteration {half}')
        time.sleep(0.05)
    time.sleep(0.5)
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait()
    subprocess.run(train('killed', '--resume', checkpoint), cwd=work, env=env, check=True,
                   capture_output=True, timeout=600)
    expected, got = _losses(osp.join(work, 'uninterrupted')), _losses(osp.join(work, 'killed'))
    after = [i for i in sorted(expected) if i > half]
    same_losses = [expected[i] for i in after] == [got.get(i) for i in after]
    final = f'iter_{iters}.pth'
    a, b = (torch.load(osp.join(work, run, final), map_location='cpu',
                       weights_only=True)['state_dict'] for run in ('uninterrupted', 'killed'))
    same_weights = all(torch.equal(a[k], b[k]) for k in a)
    return same_losses and same_weights, dict(
        losses_equal=same_losses, weights_equal=same_weights,
        last_loss=expected[after[-1]], amp=bool(extra)), None


def check_roi_align(device: str, sizes: Sizes, work: str, dtype: str):
    from .ops import OpBenchmarkSettings, run_op_benchmark
    report = run_op_benchmark(OpBenchmarkSettings(
        op='roi_align', count=sizes.roi_count, img_size=sizes.roi_img_size,
        channels=sizes.roi_channels, dtype=dtype, device=device, rounds=sizes.rounds),
        show_progress=False)
    errors = report['meta']['relative_error_vs_float64']
    gradient_errors = report['meta']['gradient_relative_error_vs_float64']
    rates = {k: v['images_per_s']['median'] for k, v in report['results'].items()}  # calls
    figures = {f'error {k}': v for k, v in errors.items()}
    figures.update({f'grad error {k}': v for k, v in gradient_errors.items()})
    figures.update({f'calls/s {k}': v for k, v in rates.items()})
    ours = [v for table in (errors, gradient_errors) for k, v in table.items()
            if k.startswith('ours')]
    return all(v < ROI_ERROR_BOUND for v in ours), figures, report


def check_mmcv_ext_kernels(device: str, sizes: Sizes, work: str):
    """mmcv.ops' RoIAlign (values and input gradients) and NMS on ``device`` against the same
    ops in float64 on the CPU. Bounds: float32 arithmetic in fp32; in fp16 / bf16 the kernel
    computes in float32 from rounded inputs, whose rounding (about 4e-3 for bf16) dominates."""
    from mmcv.ops import nms, roi_align
    from .ops import random_boxes
    generator = torch.Generator().manual_seed(0)
    side = sizes.roi_img_size // 4
    maps = torch.randn(2, sizes.roi_channels, side, side, generator=generator)
    boxes, scores = random_boxes(sizes.roi_count, sizes.roi_img_size, 'uniform', generator)
    image = torch.randint(0, 2, (sizes.roi_count, 1), generator=generator).float()
    rois = torch.cat([image, boxes.clamp(0, sizes.roi_img_size)], 1)

    def pooled_and_grad(x, r):
        x = x.detach().requires_grad_()
        out = roi_align(x, r, (7, 7), 0.25, 0, 'avg', True)
        upstream = torch.randn(out.shape, generator=torch.Generator().manual_seed(1))
        grad, = torch.autograd.grad((out.double() * upstream.to(out.device).double()).sum(), x)
        return out.detach().cpu().double(), grad.cpu().double()

    reference = pooled_and_grad(maps.double(), rois.double())
    figures, passed = {}, True
    for dtype, bound in (('fp32', 1e-5), ('fp16', 2e-2), ('bf16', 2e-2)):
        got = pooled_and_grad(maps.to(device, DTYPE_OF[dtype]), rois.to(device))
        for what, value, ref in zip(('values', 'grads'), got, reference):
            error = ((value - ref).norm() / ref.norm()).item()
            figures[f'roi_align {dtype} {what}'] = error
            passed &= error < bound
    kept = nms(boxes.to(device), scores.to(device), 0.5)[1].cpu()
    expected = nms(boxes.double(), scores.double(), 0.5)[1]
    figures['nms same boxes kept'] = bool(torch.equal(kept.sort().values, expected.sort().values))
    return passed and figures['nms same boxes kept'], figures, None


def check_soft_nms(device: str, sizes: Sizes, work: str):
    from .ops import OpBenchmarkSettings, run_op_benchmark
    report = run_op_benchmark(OpBenchmarkSettings(
        op='soft_nms', count=sizes.nms_count, device=device, rounds=sizes.rounds),
        show_progress=False)
    rates = {f'calls/s {k}': v['images_per_s']['median'] for k, v in report['results'].items()}
    return True, rates, report


def check_with_cp(device: str, sizes: Sizes, work: str):
    """Same weights, same input: outputs and input gradients with and without checkpointing."""
    from ..models import ConvNeXt
    torch.manual_seed(0)
    plain = ConvNeXt(arch=sizes.backbone_arch, drop_path_rate=0.0).to(device).train()
    checkpointed = ConvNeXt(arch=sizes.backbone_arch, drop_path_rate=0.0,
                            with_cp=True).to(device).train()
    checkpointed.load_state_dict(plain.state_dict())
    x = torch.randn(2, 3, sizes.backbone_img_size, sizes.backbone_img_size, device=device)
    outputs, gradients = [], []
    for model in (plain, checkpointed):
        image = x.clone().requires_grad_()
        features = model(image)
        sum(f.float().square().mean() for f in features).backward()
        outputs.append(torch.cat([f.flatten() for f in features]))
        gradients.append(image.grad.flatten())
    output_diff = (outputs[0] - outputs[1]).abs().max().item()
    gradient_diff = (gradients[0] - gradients[1]).abs().max().item()
    # Recomputation runs the same kernels on the same inputs: equal up to their rounding.
    passed = output_diff <= 1e-5 and gradient_diff <= 1e-5 * gradients[0].abs().max().item()
    return passed, dict(max_output_diff=output_diff, max_grad_diff=gradient_diff), None


def check_backbone(device: str, sizes: Sizes, work: str, use_grn: bool, dtype: str, batch: int):
    from .backbone import BackboneBenchmarkSettings, run_backbone_benchmark
    impls = [i for i in sizes.backbone_impls if not (use_grn and i == 'torchvision')]
    report = run_backbone_benchmark(BackboneBenchmarkSettings(
        arch=sizes.backbone_arch, use_grn=use_grn, img_size=sizes.backbone_img_size,
        batch_size=batch, dtype=dtype, channels_last=True, device=device, rounds=sizes.rounds),
        impls, show_progress=False)
    figures = {f'img/s {k}': v['images_per_s']['median'] for k, v in report['results'].items()}
    return True, figures, report


def check_compiled_backbone(device: str, sizes: Sizes, work: str, dtype: str):
    """V1 and V2, ours and timm, eager and compiled, inference at the largest batch; passes
    when every compiled backbone is one graph."""
    from .backbone import BackboneBenchmarkSettings, run_backbone_benchmark
    report = run_backbone_benchmark(BackboneBenchmarkSettings(
        arch=sizes.backbone_arch, img_size=sizes.backbone_img_size,
        batch_size=sizes.backbone_batches[-1], dtype=dtype, channels_last=True, device=device,
        rounds=sizes.rounds, compile=sizes.compile), sizes.compiled_backbone_impls,
        show_progress=False)
    figures = {f'img/s {k}': v['images_per_s']['median'] for k, v in report['results'].items()}
    figures.update(_compile_figures(report['meta']))
    breaks = report['meta']['graph_breaks']
    return all(b['breaks'] == 0 for b in breaks.values()), figures, report


def check_model(device: str, sizes: Sizes, work: str, family: str, mode: str,
                dtype: Optional[str] = None, compiled: bool = False):
    """Ours beside the stock config (eager), or ours eager beside ours compiled; a compiled
    check passes when backbone and neck compile without graph breaks."""
    from .full_model import ModelBenchmarkSettings, run_model_benchmark
    dtype = dtype or (sizes.model_amp_dtype if mode == 'train' else 'fp32')
    configs = sizes.model_configs[family][:1] if compiled else sizes.model_configs[family]
    report = run_model_benchmark(ModelBenchmarkSettings(
        img_size=sizes.model_img_size[mode], batch_size=2 if mode == 'train' else 1, mode=mode,
        dtype=dtype, device=device, rounds=max(2, sizes.rounds // 2),
        compile=sizes.compile if compiled else False), configs, show_progress=False)
    figures = {}
    for name, entry in report['results'].items():
        figures[f'img/s {name}'] = entry['images_per_s']['median']
        figures[f'peak MB {name}'] = entry['peak_memory_mb']
    if not compiled:
        return True, figures, report
    figures.update(_compile_figures(report['meta']))
    breaks = [b['breaks'] for parts in report['meta']['graph_breaks'].values()
              for b in parts.values()]
    return all(count == 0 for count in breaks), figures, report


def _compile_figures(meta: dict) -> dict:
    """First-step seconds of the compiled rows, and graph breaks (per model, or per model
    part)."""
    figures = {f'first step s {k}': v for k, v in meta['first_step_s'].items()
               if k.endswith('(compiled)')}
    for name, found in meta['graph_breaks'].items():
        if 'breaks' in found:
            figures[f'graph breaks {name}'] = found['breaks']
        else:
            figures.update({f'graph breaks {name} {part}': b['breaks']
                            for part, b in found.items()})
    return figures


def _losses(work_dir: str) -> dict:
    found = {}
    for run in sorted(os.listdir(work_dir)):
        log = osp.join(work_dir, run, 'vis_data', 'scalars.json')
        if osp.isfile(log):
            for line in open(log):
                record = json.loads(line)
                if 'loss' in record:
                    found[record['step']] = record['loss']
    return found


def _bound(function: Callable, **bound) -> Callable:
    def check(device, sizes, work):
        return function(device, sizes, work, **bound)
    return check


def _kind(device: str) -> str:
    return 'cuda' if device.startswith('cuda') else 'cpu'


def _fmt(value) -> str:
    if isinstance(value, float):
        return f'{value:.3g}'
    return str(value)
