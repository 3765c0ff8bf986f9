"""Full-model mode on the demo configs (synthetic batches, no dataset needed)."""
import pytest

from convnext_dense.benchmark import ModelBenchmarkSettings, run_model_benchmark, validate_report

DEMO = 'configs/demo/{}_convnext-atto_toy.py'


@pytest.mark.slow
@pytest.mark.parametrize('mode', ['infer', 'train'])
def test_detector_and_segmentor_side_by_side(mode):
    # Batch 2: UperNet's pyramid pooling has a BatchNorm over 1 x 1 maps in training.
    settings = ModelBenchmarkSettings(img_size=96, batch_size=2, mode=mode, warmup=1, rounds=1)
    configs = [DEMO.format('mask-rcnn'), DEMO.format('upernet')]
    report = run_model_benchmark(settings, configs, show_progress=False)
    validate_report(report)
    detector = report['results']['mask-rcnn_convnext-atto_toy']
    segmentor = report['results']['upernet_convnext-atto_toy']
    # The whole model: more parameters than the 3.4 M atto backbone.
    assert detector['params_m'] > 3.5 and segmentor['params_m'] > 3.5
    assert detector['gflops'] > 0.1 and segmentor['gflops'] > 0.1
    assert report['meta']['kind'] == 'model'


def test_unknown_scope_is_refused(tmp_path):
    config = tmp_path / 'plain.py'
    config.write_text("default_scope = 'mmpretrain'\nmodel = dict(type='ConvNeXt', arch='atto')\n")
    with pytest.raises(ValueError, match="default_scope 'mmpretrain' is not a task"):
        run_model_benchmark(ModelBenchmarkSettings(img_size=32, batch_size=1), [str(config)],
                            show_progress=False)


def test_compile_times_the_model_beside_its_compiled_twin():
    settings = ModelBenchmarkSettings(img_size=64, batch_size=1, mode='infer', warmup=0,
                                      rounds=1, compile=dict(backend='eager'))
    report = run_model_benchmark(settings, [DEMO.format('mask-rcnn')], show_progress=False)
    validate_report(report)
    name = 'mask-rcnn_convnext-atto_toy'
    assert list(report['results']) == [name, f'{name} (compiled)']
    found = report['meta']['graph_breaks'][name]
    assert list(found) == ['backbone', 'neck']
    assert all(part['breaks'] == 0 and part['graphs'] == 1 for part in found.values())
    assert set(report['meta']['first_step_s']) == set(report['results'])
