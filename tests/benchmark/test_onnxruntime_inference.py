"""The ONNX Runtime benchmark times each exported model beside the same graph in PyTorch eager,
checks they agree, and writes a report of the common schema."""
from pathlib import Path

import pytest

from convnext_dense.benchmark import ModelBenchmarkSettings, validate_report
from convnext_dense.benchmark.onnxruntime_inference import run_onnxruntime_benchmark

REPO = Path(__file__).resolve().parents[2]
SEG = str(REPO / 'configs/demo/upernet_convnext-atto_toy.py')


def test_times_both_runtimes_on_the_same_graph():
    settings = ModelBenchmarkSettings(img_size=64, batch_size=1, threads=1, warmup=0, rounds=2)
    report = run_onnxruntime_benchmark(settings, [SEG], show_progress=False)
    validate_report(report)
    results = report['results']
    assert set(results) == {'upernet_convnext-atto_toy (pytorch)',
                            'upernet_convnext-atto_toy (onnxruntime)'}
    assert results['upernet_convnext-atto_toy (onnxruntime)']['max_abs_diff'] < 1e-3
    pytorch, onnxruntime = results.values()
    assert pytorch['gflops'] == onnxruntime['gflops'] > 0
    assert report['meta']['kind'] == 'onnxruntime' and report['meta']['onnxruntime_version']


@pytest.mark.parametrize('change', [dict(mode='train'), dict(batch_size=2), dict(dtype='bf16')])
def test_refuses_what_it_does_not_time(change):
    with pytest.raises(ValueError, match='--onnxruntime|--batch-size 1'):
        run_onnxruntime_benchmark(ModelBenchmarkSettings(**dict(dict(batch_size=1), **change)),
                                  [SEG])
