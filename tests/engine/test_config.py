"""Config-time checks: typos in --cfg-options and model entries, annotation files; configs
named by package."""
import json
import os

import pytest
from mmengine.config import Config

from convnext_dense.engine.config import (CONFIG_ROOT, ConfigError, DatasetError,
                                          check_annotation_files, check_cfg_options,
                                          check_model_config, config_file, read_config,
                                          shipped_configs)

DEMO = 'configs/demo/mask-rcnn_convnext-atto_toy.py'


@pytest.fixture
def cfg():
    return Config.fromfile(DEMO)


@pytest.mark.parametrize('option', ['train_cfg.max_iters', 'param_scheduler.1.end',
                                    'model.backbone.with_cp', 'resume',
                                    'default_hooks.logger.interval'])
def test_existing_entries_and_accepted_arguments_pass(cfg, option):
    check_cfg_options(cfg, {option: 1})


@pytest.mark.parametrize('option, message', [
    ('train_cfg.max_iter', r"no entry 'train_cfg.max_iter'; did you mean max_iters"),
    ('model.backbone.drop_pat_rate', 'did you mean drop_path_rate'),
    ('trian_cfg.max_iters', r"no entry 'trian_cfg'; did you mean train_cfg"),
    ('param_scheduler.7.end', 'not an index of a 2-item list'),
])
def test_typos_in_cfg_options_are_named_with_suggestions(cfg, option, message):
    with pytest.raises(ConfigError, match=message):
        check_cfg_options(cfg, {option: 1})


MMENGINE_CONFIG_KEYS = {'compile', 'randomness', 'env_cfg', 'log_processor', 'sync_bn',
                        'model_wrapper_cfg', 'find_unused_parameters', 'activation_checkpointing',
                        'efficient_conv_bn_eval', 'experiment_name', 'default_scope'}


def test_the_option_check_knows_every_key_mmengines_runner_reads(cfg):
    """Read independently of the check (a text search of mmengine's runner module): every key
    its Runner reads from a config is accepted at the top level, set or not, so a key the
    next mmengine reads fails here rather than the user."""
    import re
    import inspect
    from mmengine.runner import runner
    source = inspect.getsource(runner)
    read = set(re.findall(r"\bcfg\.get\(\s*'(\w+)'", source))
    read |= set(re.findall(r"\bcfg\[\s*'(\w+)'\s*\]", source))
    assert MMENGINE_CONFIG_KEYS <= read
    for key in sorted(read | MMENGINE_CONFIG_KEYS):
        check_cfg_options(cfg, {key: 1})


def test_compile_from_the_command_line_is_accepted_and_a_typo_is_named(cfg):
    check_cfg_options(cfg, {'compile': True})
    with pytest.raises(ConfigError, match="no entry 'compil'; did you mean compile"):
        check_cfg_options(cfg, {'compil': True})


@pytest.mark.slow
def test_every_shipped_config_passes_the_model_check():
    shipped = shipped_configs()
    assert len(shipped) >= 34 and not any('_base_' in path for path in shipped.values())
    for path in shipped.values():
        check_model_config(read_config(path))


def test_unknown_model_type_and_argument_are_named(cfg):
    cfg.model.backbone.drop_pat_rate = 0.1
    with pytest.raises(ConfigError, match=r"model.backbone.drop_pat_rate: ConvNeXt takes no "
                                          r"argument 'drop_pat_rate'; did you mean drop_path_rate"):
        check_model_config(cfg)
    del cfg.model.backbone.drop_pat_rate
    cfg.model.neck.type = 'FPM'
    with pytest.raises(ConfigError, match=r"model.neck.type='FPM' is not a registered.*FPN"):
        check_model_config(cfg)


def coco_config(tmp_path, ann_text: str) -> Config:
    (tmp_path / 'ann.json').write_text(ann_text)
    return Config(dict(train_dataloader=dict(dataset=dict(
        type='RepeatDataset', times=2,
        dataset=dict(type='CocoDataset', data_root=str(tmp_path), ann_file='ann.json')))))


def test_invalid_annotation_json_is_named_with_its_position(tmp_path):
    check_annotation_files(coco_config(tmp_path, json.dumps(dict(images=[dict(id=1)],
                                                                 annotations=[]))))
    with pytest.raises(DatasetError, match=r'train_dataloader: annotation file .*ann.json is not '
                                           r'valid JSON: .*line 1 column 13'):
        check_annotation_files(coco_config(tmp_path, '{"images": [,]}'))


def test_missing_annotation_file_is_named(tmp_path):
    cfg = coco_config(tmp_path, '{}')
    cfg.train_dataloader.dataset.dataset.ann_file = 'nope.json'
    with pytest.raises(DatasetError, match=r'annotation file .*nope.json does not exist'):
        check_annotation_files(cfg)


def test_package_configs_are_found_where_the_package_ships_them():
    import mmdet
    path = config_file('mmdet::convnext/mask-rcnn_convnext-t-p4-w7_fpn_amp-ms-crop-3x_coco.py')
    assert path.startswith(os.path.dirname(mmdet.__file__)) and os.path.isfile(path)
    assert config_file('configs/demo/mask-rcnn_convnext-atto_toy.py').startswith('configs/')
    with pytest.raises(ConfigError, match="mmdet ships no config 'convnext/nope.py'"):
        config_file('mmdet::convnext/nope.py')
    with pytest.raises(ConfigError, match="package 'no_such_package' is not installed"):
        config_file('no_such_package::x.py')


def test_shipped_configs_are_found_by_name_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no configs/ folder here, as for a user who pip-installed
    expected = os.path.join(CONFIG_ROOT, 'mask_rcnn', 'mask-rcnn_convnext-t_fpn_3x_coco.py')
    assert config_file('mask-rcnn_convnext-t_fpn_3x_coco') == expected
    assert config_file('mask-rcnn_convnext-t_fpn_3x_coco.py') == expected
    with pytest.raises(ConfigError, match=r'mask-rcnn_convnext-t_fpn: no such file, and no '
                       r'shipped config of that name; did you mean mask-rcnn_convnext-t_fpn_3x_coco'):
        config_file('mask-rcnn_convnext-t_fpn')


def test_a_file_of_the_same_name_wins_over_the_shipped_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'mask-rcnn_convnext-t_fpn_3x_coco.py').write_text('x = 1\n')
    assert config_file('mask-rcnn_convnext-t_fpn_3x_coco.py') == 'mask-rcnn_convnext-t_fpn_3x_coco.py'
    assert config_file('sub/none.py') == 'sub/none.py'  # a path: mmengine names it missing
