"""`convnext-dense benchmark` end to end: table on stdout, JSON keyed by implementation, PNG chart."""
import json

import matplotlib.image
import pytest

from convnext_dense.cli import benchmark


def test_backbone_mode_writes_json_and_chart(tmp_path, capsys):
    out_json, out_png = tmp_path / 'bench.json', tmp_path / 'bench.png'
    benchmark.main([
        '--arch', 'atto', '--img-size', '64', '--batch-size', '2', '--impls', 'ours,timm',
        '--warmup', '1', '--rounds', '2', '--threads', '2', '--channels-last', '--json',
        str(out_json), '--plot', str(out_png)
    ])
    report = json.loads(out_json.read_text())
    assert set(report['results']) == {'ours', 'timm'}
    assert set(report['results']['ours']['images_per_s']) == {'median', 'min', 'max'}
    assert report['meta']['threads_used'] == 2 and report['meta']['channels_last']
    image = matplotlib.image.imread(str(out_png))
    assert image.shape[0] > 100 and image.shape[1] > 100
    assert 'vs fastest peer' in capsys.readouterr().out


def test_config_mode_rejects_backbone_only_flags():
    with pytest.raises(SystemExit, match='backbone mode only'):
        benchmark.main(['--config', 'configs/demo/upernet_convnext-atto_toy.py',
                                '--channels-last'])
