"""The backbone comparison end to end on a tiny setting (no assertion on speed)."""
import pytest
import torch

from convnext_dense.benchmark import (BackboneBenchmarkSettings, ImplementationsDisagree,
                                      run_backbone_benchmark, validate_report)
from convnext_dense.benchmark import implementations
from convnext_dense.benchmark.report import format_compiled_markdown
from convnext_dense.models.backbones.convnext import resolve_arch

TINY = dict(arch='atto', img_size=64, batch_size=2, warmup=1, rounds=2)


@pytest.mark.parametrize('mode', ['infer', 'train'])
def test_report_covers_every_implementation(mode):
    settings = BackboneBenchmarkSettings(mode=mode, channels_last=True, **TINY)
    report = run_backbone_benchmark(settings, ['ours', 'timm', 'torchvision', 'mmpretrain'],
                                    show_progress=False)
    validate_report(report)
    assert list(report['results']) == ['ours', 'timm', 'torchvision', 'mmpretrain']
    for entry in report['results'].values():
        assert entry['max_abs_diff'] <= 1e-4
        assert entry['params_m'] == pytest.approx(3.38, abs=0.01)
        assert entry['images_per_s']['min'] <= entry['images_per_s']['median'] <= \
            entry['images_per_s']['max']
    assert report['meta']['threads_used'] == torch.get_num_threads()


def test_bf16_autocast_runs():
    settings = BackboneBenchmarkSettings(dtype='bf16', **TINY)
    report = run_backbone_benchmark(settings, ['ours', 'timm'], show_progress=False)
    assert report['meta']['dtype'] == 'bf16'


def test_disagreeing_implementation_stops_the_run(monkeypatch):
    real = implementations.BUILDERS['timm']

    def broken_timm(arch, use_grn, state, drop_path_rate):
        state = dict(state)
        state['stages.2.0.pwconv2.bias'] = state['stages.2.0.pwconv2.bias'] + 0.1
        return real(arch, use_grn, state, drop_path_rate)

    monkeypatch.setitem(implementations.BUILDERS, 'timm', broken_timm)
    with pytest.raises(ImplementationsDisagree, match='timm output 2 differs from ours'):
        run_backbone_benchmark(BackboneBenchmarkSettings(**TINY), ['ours', 'timm'],
                               show_progress=False)


def test_missing_implementation_is_skipped_with_the_rest_measured():
    settings = BackboneBenchmarkSettings(use_grn=True, **TINY)
    report = run_backbone_benchmark(settings, ['ours', 'torchvision'], show_progress=False)
    assert list(report['results']) == ['ours']


def test_drop_path_rate_reaches_every_implementation():
    blocks = sum(resolve_arch('atto').depths)
    state = implementations.reference_weights('atto', False)
    rates = {}
    for name in ('ours', 'timm', 'torchvision', 'mmpretrain'):
        model = implementations.build_implementation(name, 'atto', False, state,
                                                     drop_path_rate=0.4)
        rates[name] = sorted(round(float(getattr(m, 'drop_prob', getattr(m, 'p', 0.0))), 6)
                             for m in model.modules()
                             if type(m).__name__ in ('DropPath', 'StochasticDepth'))
    expected = [round(r, 6) for r in torch.linspace(0, 0.4, blocks).tolist() if r > 0]
    for name, found in rates.items():  # torchvision also keeps the first block's p=0 module
        assert [r for r in found if r > 0] == expected, name


def test_compile_times_each_implementation_beside_its_compiled_twin():
    settings = BackboneBenchmarkSettings(compile=dict(backend='eager'), **TINY)
    report = run_backbone_benchmark(settings, ['ours', 'timm'], show_progress=False)
    validate_report(report)
    assert list(report['results']) == ['ours', 'ours (compiled)', 'timm', 'timm (compiled)']
    meta = report['meta']
    assert meta['graph_breaks'] == {name: dict(graphs=1, breaks=0, reasons=[])
                                    for name in ('ours', 'timm')}
    assert set(meta['first_step_s']) == set(report['results'])
    assert report['results']['ours (compiled)']['max_abs_diff'] is None  # not checked
    rows = format_compiled_markdown([report]).splitlines()[2:]
    assert [row.split(' | ')[1] for row in rows] == ['ours', 'timm']
    assert all(row.endswith('| 0 |') for row in rows)


def test_v1_and_v2_are_timed_in_one_run_each_checked_against_its_own_version():
    report = run_backbone_benchmark(BackboneBenchmarkSettings(**TINY),
                                    ['ours', 'timm', 'ours-v2', 'timm-v2'], show_progress=False)
    results = report['results']
    assert list(results) == ['ours', 'timm', 'ours-v2', 'timm-v2']
    assert results['ours']['max_abs_diff'] == results['ours-v2']['max_abs_diff'] == 0
    assert results['timm']['max_abs_diff'] <= 1e-4 and results['timm-v2']['max_abs_diff'] <= 1e-4
    # Per block V2 adds GRN's gamma and beta (2 x 4C) and drops layer scale (C).
    spec = resolve_arch('atto')
    added = 7 * sum(c * d for c, d in zip(spec.channels, spec.depths))
    assert (results['ours-v2']['params_m'] - results['ours']['params_m']) * 1e6 == \
        pytest.approx(added, abs=1)
    assert report['meta']['agreement']['reference'] == 'ours, ours-v2'
