"""The one-shot device check (tools/gpu/run_checks.py) on CPU at reduced sizes: every check of
the GPU plan runs and passes, one JSON line each and a summary; the budget stops new checks."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from convnext_dense.benchmark.device_check import plan, run_checks

REPO = Path(__file__).resolve().parents[2]


def test_no_check_starts_once_the_budget_is_spent(tmp_path):
    results = run_checks('cpu', str(tmp_path), budget_s=-1)
    assert [r.name for r in results] == [name for name, _ in plan('cpu')]
    assert all(r.passed is None and 'budget' in r.error for r in results)
    lines = (tmp_path / 'checks.jsonl').read_text().splitlines()
    assert [json.loads(line)['name'] for line in lines] == [r.name for r in results]
    assert '| resume | skipped |' in (tmp_path / 'summary.md').read_text()


def test_the_gpu_plan_covers_what_a_gpu_must_prove():
    names = [name for name, _ in plan('cuda')]
    assert names[0] == 'resume'
    assert {'roi_align_fp32', 'roi_align_fp16', 'roi_align_bf16', 'mmcv_ext_kernels', 'soft_nms',
            'with_cp',
            'backbone_v1_fp32_b64', 'backbone_v1_bf16_b256', 'backbone_v2_fp16_b64',
            'model_mask-rcnn_train', 'model_cascade-mask-rcnn_infer',
            'model_upernet_train'} <= set(names)
    compiled = [name for name in names if name.startswith('compiled_')]
    assert names[-len(compiled):] == compiled  # after everything else, as the budget allows
    assert {'compiled_backbone_fp16', 'compiled_backbone_bf16',
            'compiled_model_mask-rcnn_train_fp16', 'compiled_model_cascade-mask-rcnn_infer_bf16',
            'compiled_model_upernet_train_bf16'} <= set(compiled)


def test_only_takes_names_and_patterns(tmp_path):
    results = run_checks('cpu', str(tmp_path), budget_s=-1, only=['with_cp', 'compiled_*'])
    assert [r.name for r in results] == ['with_cp'] + [
        name for name, _ in plan('cpu') if name.startswith('compiled_')]


@pytest.mark.slow
def test_every_check_runs_and_passes_on_cpu(tmp_path):
    result = subprocess.run([sys.executable, str(REPO / 'tools/gpu/run_checks.py'), '--device',
                             'cpu', '--budget-s', '1200', '--out', str(tmp_path / 'out')],
                            cwd=tmp_path, capture_output=True, text=True, timeout=1500)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    records = [json.loads(line) for line in
               (tmp_path / 'out/checks.jsonl').read_text().splitlines()]
    assert [r['name'] for r in records] == [name for name, _ in plan('cpu')]
    assert all(r['passed'] is True for r in records), [r for r in records if not r['passed']]
    resume = records[0]['figures']
    assert resume['losses_equal'] and resume['weights_equal']
