"""`convnext-dense configs`: the shipped configs by name, with their recipes' published results."""
from convnext_dense.cli import configs


def test_a_word_lists_the_matching_configs_with_their_results(capsys):
    rows = configs.main(['convnext-t_'])
    assert rows == {'cascade-mask-rcnn_convnext-t_fpn_3x_coco': 'box AP 50.4, mask AP 43.7',
                    'mask-rcnn_convnext-t_fpn_3x_coco': 'box AP 46.2, mask AP 41.7',
                    'upernet_convnext-t_8xb2-160k_ade20k-512x512': 'mIoU 46.0 / 46.7 (ss / ms+flip)',
                    'cascade-mask-rcnn_dinov3-convnext-t_fpn_3x_coco': 'no published result',
                    'mask-rcnn_dinov3-convnext-t_fpn_3x_coco': 'no published result',
                    'upernet_dinov3-convnext-t_8xb2-160k_ade20k-512x512': 'no published result'}
    out = capsys.readouterr().out
    assert 'mask-rcnn_convnext-t_fpn_3x_coco  ' in out and '6 config(s)' in out


def test_wildcards_demo_configs_and_no_match(capsys):
    rows = configs.main(['*atto_toy'])
    assert set(rows) == {'mask-rcnn_convnext-atto_toy', 'cascade-mask-rcnn_convnext-atto_toy',
                         'upernet_convnext-atto_toy'}
    assert set(rows.values()) == {'toy data (demo, tests)'}
    assert configs.main(['no-such-model']) == {}
    assert "no shipped config matches 'no-such-model'" in capsys.readouterr().out


def test_every_config_is_listed_without_a_pattern():
    rows = configs.main([])
    assert len(rows) >= 34
    assert rows['upernet_convnext-v2-t_8xb2-160k_ade20k-512x512-fcmae'] == 'no published result'
