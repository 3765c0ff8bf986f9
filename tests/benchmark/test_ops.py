"""The op benchmark: every variant timed on the same inputs, a valid report, and RoI
extraction's error against float64 beside its speed."""
from convnext_dense.benchmark.ops import OpBenchmarkSettings, run_op_benchmark
from convnext_dense.benchmark.report import format_table, validate_report


def test_soft_nms_rows_beside_torchvisions_nms():
    report = run_op_benchmark(OpBenchmarkSettings(op='soft_nms', count=200, layout='clustered',
                                                  warmup=0, rounds=1), show_progress=False)
    validate_report(report)
    assert set(report['results']) == {'soft_nms linear', 'soft_nms gaussian', 'soft_nms naive',
                                      'torchvision nms'}
    assert report['meta']['unit'] == 'call' and 'call/s med' in format_table(report)


def test_roi_align_reports_speed_and_error_against_float64():
    report = run_op_benchmark(OpBenchmarkSettings(op='roi_align', count=64, img_size=256,
                                                  channels=8, dtype='bf16', warmup=0,
                                                  rounds=1), show_progress=False)
    validate_report(report)
    errors = report['meta']['relative_error_vs_float64']
    assert set(errors) == set(report['results'])
    assert errors['ours (gather)'] < 2e-2 and errors['ours (torchvision)'] < 2e-2
    assert errors['mmdet SingleRoIExtractor'] > 2e-2  # RoIs rounded to bf16
    gradients = report['meta']['gradient_relative_error_vs_float64']
    assert set(gradients) == set(report['results'])
    assert gradients['ours (gather)'] < 2e-2 and gradients['ours (torchvision)'] < 2e-2
    assert gradients['mmdet SingleRoIExtractor'] > 2e-2
    assert 'relative error vs float64' in format_table(report)
