"""Report schema, JSON writing, table and chart."""
import json

import matplotlib.image
import pytest

from convnext_dense.benchmark.harness import Timings
from convnext_dense.benchmark.report import (ReportSchemaError, build_results, format_table,
                                             plot_report, validate_report, write_json)


def small_report() -> dict:
    timings = {'ours': Timings([0.1, 0.2]), 'timm': Timings([0.2, 0.3])}
    results = build_results(timings, {'ours': 2**20, 'timm': None}, {'ours': 10**6, 'timm': 10**6},
                            {'ours': 10**9, 'timm': 10**9}, batch_size=2, mode='infer',
                            matmul_peak=1e11, max_abs_diff={'ours': 0.0, 'timm': 1e-6})
    meta = dict(kind='backbone', arch='atto', mode='infer', batch_size=2, device='cpu',
                device_name='CPU', matmul_peak_gflops=100.0, environment={})
    return dict(meta=meta, results=results)


def test_results_hold_ratios_and_peak_fraction():
    results = small_report()['results']
    # Medians of per-round rates: ours (20 + 10) / 2, timm (10 + 6.67) / 2 images/s.
    assert results['ours']['images_per_s']['median'] == pytest.approx(15.0)
    assert results['ours']['ratio_to_fastest_peer'] == pytest.approx(15.0 / (25 / 3))
    assert results['ours']['peak_memory_mb'] == 1.0 and results['timm']['peak_memory_mb'] is None
    # 1 GFLOPs (multiply-adds) an image x 2 FLOPs each x 15 images/s over 100 GFLOP/s.
    assert results['ours']['matmul_peak_fraction'] == pytest.approx(2 * 15.0 / 100)


def test_json_round_trip_and_schema_errors(tmp_path):
    report = small_report()
    path = tmp_path / 'sub' / 'report.json'
    write_json(report, str(path))
    assert json.loads(path.read_text()) == report
    del report['results']['timm']['latency_ms']
    with pytest.raises(ReportSchemaError, match=r"\['timm'\] lacks 'latency_ms'"):
        validate_report(report)
    with pytest.raises(ReportSchemaError, match="lacks 'mode'"):
        validate_report(dict(meta={'kind': 'x'}, results={'a': {}}))


def test_table_ranks_fastest_first_and_plot_decodes(tmp_path):
    table = format_table(small_report()).splitlines()
    assert table[2].startswith('ours') and table[3].startswith('timm')
    path = tmp_path / 'bars.png'
    plot_report([small_report(), small_report()], str(path))
    assert matplotlib.image.imread(str(path)).ndim == 3


def test_long_names_do_not_squeeze_the_bars(tmp_path):
    """A 70-character config name as a tick label pushed the bars into a third of the chart;
    names now sit above their bars, and the chart keeps its size."""
    short, long = small_report(), small_report()
    long['results'] = {f'{name}_' + 'x' * 70: entry for name, entry in long['results'].items()}
    shapes = []
    for name, report in (('short', short), ('long', long)):
        path = tmp_path / f'{name}.png'
        plot_report([report], str(path))
        shapes.append(matplotlib.image.imread(str(path)).shape)
    assert shapes[0] == shapes[1]
