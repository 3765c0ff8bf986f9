"""Our paper configs' models against mmdet's / mmseg's own ConvNeXt-T configs (mmpretrain's
backbone; what ``make bench`` compares them with): the stock model's weights loaded into ours
give the same losses and the same predictions, so every speed-up in our configs (our backbone,
RoIAlignExtractor) keeps the stock numerics. Drop path is off in both, so that both consume the
random generator alike (the block tests cover drop path); the settings that only size the test
are the same for both."""
import pytest
import torch

from convnext_dense.benchmark.full_model import build_model_from_config, synthetic_batch
from convnext_dense.checkpoint import convert_state_dict

FAMILIES = {
    'mask-rcnn': ('configs/mask_rcnn/mask-rcnn_convnext-t_fpn_3x_coco.py',
                  'mmdet::convnext/mask-rcnn_convnext-t-p4-w7_fpn_amp-ms-crop-3x_coco.py'),
    'cascade-mask-rcnn': (
        'configs/cascade_mask_rcnn/cascade-mask-rcnn_convnext-t_fpn_3x_coco.py',
        'mmdet::convnext/cascade-mask-rcnn_convnext-t-p4-w7_fpn_4conv1fc-giou_amp-ms-crop-3x_coco.py'),
    'upernet': ('configs/upernet/upernet_convnext-t_8xb2-160k_ade20k-512x512.py',
                'mmseg::convnext/convnext-tiny_upernet_8xb2-amp-160k_ade20k-512x512.py'),
}
SIDE = 160
# Drop path off; mmseg's preprocessor pads to the training crop (512): to our side instead.
OPTIONS = {
    'mask-rcnn': {},
    # Fewer RoIs (sampled and proposed) and every detection kept, for a fast test whose
    # randomly initialised cascade still predicts something.
    'cascade-mask-rcnn': {
        'model.train_cfg.rpn_proposal.max_per_img': 200,
        **{f'model.train_cfg.rcnn.{i}.sampler.num': 64 for i in range(3)},
        'model.test_cfg.rpn.max_per_img': 100, 'model.test_cfg.rcnn.score_thr': 0.0,
        'model.test_cfg.rcnn.max_per_img': 20},
    'upernet': {'model.data_preprocessor.size': (SIDE, SIDE)},
}
SEED = 3


def stock_weights_in_ours(ours, stock) -> None:
    """The stock model's weights, backbone converted from mmpretrain's layout, in ``ours``
    (strict: every tensor has its counterpart)."""
    state = stock.state_dict()
    backbone = {k[len('backbone.'):]: v for k, v in state.items() if k.startswith('backbone.')}
    converted, _ = convert_state_dict(backbone, layout='mmpretrain')
    rest = {k: v for k, v in state.items() if not k.startswith('backbone.')}
    ours.load_state_dict({**{f'backbone.{k}': v for k, v in converted.items()}, **rest})


def losses(model, batch):
    torch.manual_seed(SEED)  # the RPN / R-CNN samplers draw the same RoIs in both models
    data = model.data_preprocessor(batch, True)
    return model(**data, mode='loss')


def predictions(model, batch):
    with torch.no_grad():
        sample = model.test_step(batch)[0]
    if 'pred_instances' in sample:
        found = sample.pred_instances
        return dict(bboxes=found.bboxes, scores=found.scores, labels=found.labels,
                    masks=found.masks)
    return dict(seg_logits=sample.seg_logits.data)


@pytest.mark.slow
@pytest.mark.parametrize('family', sorted(FAMILIES))
def test_same_weights_same_losses_and_predictions(family):
    ours_config, stock_config = FAMILIES[family]
    options = {'model.backbone.drop_path_rate': 0.0, **OPTIONS[family]}
    torch.manual_seed(0)
    stock = build_model_from_config(stock_config, options)
    with torch.no_grad():  # layer scale of 1e-6 would make the blocks near identities
        for name, param in stock.backbone.named_parameters():
            if name.endswith('gamma'):
                param.uniform_(0.5, 1.0)
    ours = build_model_from_config(ours_config, options)
    stock_weights_in_ours(ours, stock)
    batch = synthetic_batch(ours, 2, SIDE, seed=0)

    ours.train(), stock.train()
    expected, actual = losses(stock, batch), losses(ours, batch)
    assert sorted(actual) == sorted(expected)
    for key in expected:
        torch.testing.assert_close(actual[key], expected[key], rtol=1e-4, atol=1e-5,
                                   msg=lambda m, key=key: f'{family} {key}: {m}')

    ours.eval(), stock.eval()
    expected, actual = predictions(stock, batch), predictions(ours, batch)
    assert all(v.numel() > 0 for v in expected.values())
    if 'masks' in expected:
        # Binary masks: a probability within float rounding of 0.5 may land either side.
        assert actual['masks'].shape == expected['masks'].shape
        assert (actual.pop('masks') != expected.pop('masks')).float().mean() < 1e-4
    for key in expected:
        torch.testing.assert_close(actual[key], expected[key], rtol=1e-4, atol=1e-4,
                                   msg=lambda m, key=key: f'{family} {key}: {m}')
