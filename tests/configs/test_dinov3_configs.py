"""DINOv3 ConvNeXt configs: our recipe in each family and size (there is no published one), the
official weight file names, the model-zoo rows; and the whole path a user takes with real
weights, on the toy data: a DINOv3-layout ConvNeXt-T checkpoint (random weights) -> init_cfg ->
layout detection -> layer-decay ids -> training through the train command -> the test command.
"""
import contextlib
import io
from pathlib import Path

import pytest
import torch

from convnext_dense import cli
from convnext_dense.checkpoint import to_dinov3_state_dict
from convnext_dense.cli.model_zoo import zoo_entry
from convnext_dense.engine.config import read_config
from convnext_dense.models import ARCH_SETTINGS, ConvNeXt

CONFIGS = Path(__file__).resolve().parents[2] / 'configs'
DIRS = ('mask_rcnn_dinov3', 'cascade_mask_rcnn_dinov3', 'upernet_dinov3')
# The official file names (facebookresearch/dinov3, hub/backbones.py: name and SHA-256 prefix).
FILES = {'tiny': 'dinov3_convnext_tiny_pretrain_lvd1689m-21b726bb.pth',
         'small': 'dinov3_convnext_small_pretrain_lvd1689m-296db49d.pth',
         'base': 'dinov3_convnext_base_pretrain_lvd1689m-801f2ba9.pth',
         'large': 'dinov3_convnext_large_pretrain_lvd1689m-61fa432d.pth'}
SIZES = {'t': 'tiny', 's': 'small', 'b': 'base', 'l': 'large'}
# family: (config pattern, lr, layer decay, decay type, drop path per size: half of V1's)
FAMILIES = {
    'mask_rcnn_dinov3': ('mask-rcnn_dinov3-convnext-{}_fpn_3x_coco.py', 1e-4, 0.8, 'layer_wise',
                         dict(t=0.2, s=0.3, b=0.35, l=0.35)),
    'cascade_mask_rcnn_dinov3': ('cascade-mask-rcnn_dinov3-convnext-{}_fpn_3x_coco.py', 1e-4,
                                 0.8, 'layer_wise', dict(t=0.2, s=0.3, b=0.35, l=0.35)),
    'upernet_dinov3': ('upernet_dinov3-convnext-{}_8xb2-160k_ade20k-512x512.py', 1e-4, 0.9,
                       'layer_wise', dict(t=0.2, s=0.15, b=0.2, l=0.2)),
}
CONFIG_TABLE = {f'{family}/{pattern.format(letter)}': (family, letter)
                for family, (pattern, *_) in FAMILIES.items() for letter in SIZES}


def test_every_dinov3_config_is_in_the_table():
    found = {str(p.relative_to(CONFIGS)) for d in DIRS for p in (CONFIGS / d).glob('*.py')}
    assert found == set(CONFIG_TABLE)


@pytest.mark.slow
@pytest.mark.parametrize('config', sorted(CONFIG_TABLE))
def test_recipe_weights_and_model_zoo_row(config):
    family, letter = CONFIG_TABLE[config]
    _, lr, decay, decay_type, drop_path = FAMILIES[family]
    arch = SIZES[letter]
    cfg = read_config(str(CONFIGS / config))
    backbone = cfg.model.backbone
    assert (backbone.arch, backbone.drop_path_rate, backbone.get('frozen_stages', 0)) == \
        (arch, drop_path[letter], 0)
    assert backbone.layer_scale_init_value > 0 and not backbone.get('use_grn', False)
    assert backbone.init_cfg == dict(type='Pretrained', checkpoint=f'checkpoints/{FILES[arch]}')
    channels = list(ARCH_SETTINGS[arch].channels)
    heads = cfg.model.get('neck') or cfg.model.decode_head
    assert heads.in_channels == channels
    wrapper = cfg.optim_wrapper
    assert wrapper.optimizer.lr == lr
    assert wrapper.paramwise_cfg == dict(decay_rate=decay, decay_type=decay_type,
                                         num_layers=6 if arch == 'tiny' else 12)
    zoo = zoo_entry(str(CONFIGS / config))
    assert zoo['backbone'] == f'DINOv3 ConvNeXt-{letter.upper()}'
    assert zoo['backbone_checkpoint'] is None and zoo['backbone_file'] == FILES[arch]
    assert 'DINOv3 Licence' in zoo['weights'] and zoo['checkpoint'] is None


@pytest.mark.slow  # reads all 43 paper configs (about a second each)
def test_model_zoo_lists_the_dinov3_rows():
    from convnext_dense.cli.model_zoo import compact_zoo_markdown, zoo_markdown
    full, compact = zoo_markdown(), compact_zoo_markdown()
    for config, (family, letter) in CONFIG_TABLE.items():
        name = Path(config).stem
        assert f'`{name}`' in compact and f'`{name}`' in full
    assert full.count('DINOv3 Licence, gated') == len(CONFIG_TABLE)


DEMOS = {'mask_rcnn_dinov3': 'demo/mask-rcnn_convnext-atto_toy.py',
         'cascade_mask_rcnn_dinov3': 'demo/cascade-mask-rcnn_convnext-atto_toy.py',
         'upernet_dinov3': 'demo/upernet_convnext-atto_toy.py'}
ITERS = 2


def run(command: str, args: list, cwd: Path) -> str:
    console = io.StringIO()
    with contextlib.chdir(cwd), contextlib.redirect_stdout(console), \
            contextlib.redirect_stderr(console):
        status = cli.run(command, args)
    assert status == 0, console.getvalue()[-4000:]
    return console.getvalue()


@pytest.fixture(scope='module')
def dinov3_tiny(tmp_path_factory) -> tuple:
    """A DINOv3-layout ConvNeXt-T checkpoint (random weights, as DINOv3's own ConvNeXt saves:
    a plain state dict, the final norm as ``norm`` and ``norms.3``) and its tensors."""
    torch.manual_seed(0)
    state = to_dinov3_state_dict(ConvNeXt(arch='tiny').state_dict())
    assert 'norms.3.weight' in state and 'norm.weight' in state
    path = tmp_path_factory.mktemp('dinov3') / FILES['tiny']
    torch.save(state, path)
    return path, state


USER_CONFIG = """_base_ = {demo!r}
model = dict(backbone=dict(arch='tiny', drop_path_rate={drop_path!r},
                           init_cfg=dict(type='Pretrained', checkpoint={checkpoint!r})),
             {heads})
optim_wrapper = dict(paramwise_cfg={paramwise!r})
"""


@pytest.mark.slow
@pytest.mark.parametrize('family', sorted(DEMOS))
def test_fine_tunes_on_toy_data_from_a_dinov3_checkpoint(family, dinov3_tiny, toy_run_dir):
    """The family's DINOv3-T recipe (backbone and optimizer settings, read from its config) on
    the toy demo, as a user config over it, initialised from the DINOv3 file: trains,
    checkpoints, evaluates, and the test command evaluates the checkpoint."""
    path, dinov3_state = dinov3_tiny
    pattern, *_ = FAMILIES[family]
    recipe = read_config(str(CONFIGS / family / pattern.format('t')))
    heads = ('decode_head=dict(in_channels=[96, 192, 384, 768]), '
             'auxiliary_head=dict(in_channels=384)' if family == 'upernet_dinov3' else
             'neck=dict(in_channels=[96, 192, 384, 768])')
    root = toy_run_dir(f'dinov3_{family}')
    config = root / f'{family}_toy.py'
    config.write_text(USER_CONFIG.format(
        demo=str(CONFIGS / DEMOS[family]), drop_path=recipe.model.backbone.drop_path_rate,
        checkpoint=str(path), heads=heads, paramwise=recipe.optim_wrapper.paramwise_cfg.to_dict()))
    work_dir = root / 'work'
    run('train', [str(config), '--work-dir', str(work_dir), '--cfg-options',
                  f'train_cfg.max_iters={ITERS}', f'train_cfg.val_interval={ITERS}',
                  'val_dataloader.dataset.indices=4', 'default_hooks.logger.interval=1'], root)
    log, = work_dir.glob('*/*.log')
    assert f'Loaded ConvNeXt backbone weights from {path} (dinov3 layout)' in log.read_text()
    checkpoint = torch.load(work_dir / f'iter_{ITERS}.pth', weights_only=True)['state_dict']
    # Initialised from the file: after two warm-up steps every backbone tensor is still the
    # file's (to within the few small updates), and the final norm sits at norm3.
    for key, value in dinov3_state.items():
        ours = 'norm3.' + key.split('.')[-1] if key.startswith('norm') else key
        torch.testing.assert_close(checkpoint[f'backbone.{ours}'], value, atol=5e-3, rtol=0,
                                   msg=key)
    run('test', [str(config), str(work_dir / f'iter_{ITERS}.pth'), '--work-dir',
                 str(root / 'test'), '--cfg-options', 'test_dataloader.dataset.indices=4'], root)
    metric = 'mIoU' if family == 'upernet_dinov3' else 'coco/bbox_mAP'
    test_log, = (root / 'test').glob('*/*.log')
    assert metric in test_log.read_text()
