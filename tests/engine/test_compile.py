"""The compile switch: the config's ``compile`` (mmengine's key, ``--compile``) compiles the
backbone and the neck in place, and a compiled model's losses, gradients and predictions equal
eager ones within fp32 tolerance, for each model family (the same weights and inputs)."""
import contextlib
import copy
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.model.utils import revert_sync_batchnorm
from mmengine.registry import DefaultScope

from convnext_dense.engine.compile import compile_options, compile_static_parts
from convnext_dense.tasks import task_of

DEMOS = {'mask-rcnn': 'configs/demo/mask-rcnn_convnext-atto_toy.py',
         'cascade-mask-rcnn': 'configs/demo/cascade-mask-rcnn_convnext-atto_toy.py',
         'upernet': 'configs/demo/upernet_convnext-atto_toy.py'}
# Inductor reorders and fuses fp32 reductions: the features differ from eager by float
# rounding (about 1e-6 relative); losses and outputs downstream by a little more.
LOSS_TOL = dict(rtol=1e-4, atol=1e-5)
OUTPUT_TOL = dict(rtol=1e-3, atol=1e-3)


@pytest.fixture(autouse=True)
def fresh_dynamo():
    """Each test compiles from scratch: dynamo remembers the shapes a function was compiled for
    across the process (they decide automatic dynamic shapes and the recompile limit)."""
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


@pytest.mark.parametrize('value, options', [
    (None, None), (False, None), (True, dict(dynamic=False)),
    (dict(mode='max-autotune'), dict(mode='max-autotune', dynamic=False)),
    (dict(dynamic=None), dict(dynamic=None))])
def test_compile_options(value, options):
    assert compile_options(value) == options


@pytest.mark.slow
def test_a_new_input_size_recompiles_instead_of_failing():
    """The second input size a compiled backbone meets (multi-scale training does this at once)
    used to make dynamo retry with dynamic shapes, where inductor's layout code fails on our
    channels-last maps ('cannot determine truth value of Relational: 8*((s0//4)) < 8')."""
    from convnext_dense.models import ConvNeXt
    model = ConvNeXt(arch=dict(depths=[1, 1, 1, 1], channels=[8, 16, 24, 32])).train()
    model.compile(**compile_options(True))
    for side in (32, 64):
        sum(f.mean() for f in model(torch.randn(1, 3, side, side))).backward()
        assert all(p.grad is not None for p in model.parameters())


def test_a_bad_compile_value_is_named():
    with pytest.raises(TypeError, match="compile = 'yes'"):
        compile_options('yes')


def build(config: str):
    cfg = Config.fromfile(config)
    task = task_of(cfg)
    with DefaultScope.overwrite_default_scope(task.scope):
        model = revert_sync_batchnorm(task.registry('MODELS').build(cfg.model))
    model.init_weights()
    return model, task


def test_backbone_and_neck_are_compiled_once_in_place():
    model, _ = build(DEMOS['mask-rcnn'])
    names = sorted(model.state_dict())
    assert compile_static_parts(model, dict(backend='eager')) == ['backbone', 'neck']
    assert compile_static_parts(model, dict(backend='eager')) == []
    assert sorted(model.state_dict()) == names  # checkpoints keep their keys
    assert model.roi_head._compiled_call_impl is None


def losses_and_grads(model, batch):
    torch.manual_seed(0)  # the same RPN / RoI sampling
    data = model.data_preprocessor(copy.deepcopy(batch), True)
    losses = model(**data, mode='loss')
    total, _ = model.parse_losses(losses)
    model.zero_grad()
    total.backward()
    grads = {k: p.grad.clone() for k, p in model.backbone.named_parameters()
             if p.grad is not None}
    return {k: v for k, v in losses.items() if torch.is_tensor(v)}, grads


def predictions(model, batch):
    data = model.data_preprocessor(copy.deepcopy(batch), False)
    with torch.no_grad():
        return model(**data, mode='predict')


@pytest.mark.slow
@pytest.mark.parametrize('family', sorted(DEMOS))
def test_compiled_losses_gradients_and_predictions_equal_eager(family):
    eager, task = build(DEMOS[family])
    compiled, _ = build(DEMOS[family])
    compiled.load_state_dict(eager.state_dict())
    assert compile_static_parts(compiled, {})
    num_classes = 5 if task.scope == 'mmseg' else 4
    batch = task.synthetic_batch(num_classes, 2, 128, 128, seed=0)
    eager.train(), compiled.train()
    (losses, grads), (compiled_losses, compiled_grads) = \
        losses_and_grads(eager, batch), losses_and_grads(compiled, batch)
    assert losses.keys() == compiled_losses.keys()
    for key in losses:
        torch.testing.assert_close(compiled_losses[key], losses[key], **LOSS_TOL, msg=key)
    assert grads.keys() == compiled_grads.keys() and grads
    for key in grads:
        torch.testing.assert_close(compiled_grads[key], grads[key], **OUTPUT_TOL, msg=key)
    eager.eval(), compiled.eval()
    for ours, theirs in zip(predictions(compiled, batch), predictions(eager, batch)):
        if task.scope == 'mmseg':
            torch.testing.assert_close(ours.seg_logits.data, theirs.seg_logits.data, **OUTPUT_TOL)
        else:
            top = theirs.pred_instances.scores.argsort(descending=True)[:10]
            torch.testing.assert_close(ours.pred_instances.scores[top],
                                       theirs.pred_instances.scores[top], **OUTPUT_TOL)
            torch.testing.assert_close(ours.pred_instances.bboxes[top],
                                       theirs.pred_instances.bboxes[top], **OUTPUT_TOL)


USER_CONFIG = """_base_ = {demo!r}
compile = dict(backend='eager')  # dynamo's graph capture without inductor's code generation
"""


@pytest.mark.slow
def test_the_runner_compiles_backbone_and_neck_not_the_training_step(toy_run_dir):
    """mmengine's Runner would compile the whole train_step (mmdet's losses break the graph,
    AdamW.step does not compile); ours compiles the static parts and trains."""
    from convnext_dense.cli import train
    root = toy_run_dir('compiled_run')
    config = root / 'compiled.py'
    config.write_text(USER_CONFIG.format(demo=str(Path(DEMOS['mask-rcnn']).resolve())))
    with contextlib.chdir(root):
        runner = train.main([str(config), '--work-dir', str(root / 'work'), '--cfg-options',
                             'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
                             'val_dataloader.dataset.indices=2'])
    model = runner.model
    assert model.backbone._compiled_call_impl is not None
    assert model.neck._compiled_call_impl is not None
    assert model.roi_head._compiled_call_impl is None
    assert not hasattr(model.train_step, '_torchdynamo_orig_callable')  # mmengine's way, not taken
    assert (root / 'work/iter_2.pth').is_file()


def test_the_compile_flag_sets_the_config_key(tmp_path):
    from convnext_dense.cli import train
    from convnext_dense.cli.common import run_config
    args = train.parse_args([DEMOS['upernet'], '--work-dir', str(tmp_path), '--compile'])
    assert run_config(args).compile is True
    args = train.parse_args([DEMOS['upernet'], '--work-dir', str(tmp_path)])
    assert 'compile' not in run_config(args)


@pytest.mark.parametrize('drop_path_rate, training', [
    pytest.param(0.4, True, marks=pytest.mark.slow), (0.0, False)])
def test_the_backbone_compiles_into_one_graph(drop_path_rate, training):
    """No graph break (a break in the stage loop made dynamo run the whole backbone eager:
    the fused-kernel gate asked torch.backends.mkldnn before asking whether it compiles)."""
    import torch._dynamo as dynamo
    from convnext_dense.models import ConvNeXt
    backbone = ConvNeXt(arch='atto', drop_path_rate=drop_path_rate).train(training)
    explained = dynamo.explain(backbone)(torch.randn(1, 3, 64, 64))
    assert (explained.graph_count, explained.graph_break_count) == (1, 0)
