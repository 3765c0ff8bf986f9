"""Runner checkpoints save and resume under torch.load(weights_only=True) through
WeightsOnlyCheckpointHook, without allow-listing any class."""
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn

from convnext_dense.engine.hooks.weights_only_checkpoint import (WeightsOnlyCheckpointHook,
                                                                  buffer_to_plain,
                                                                  plain_to_buffer)


class TinyRegressor(BaseModel):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.linear(inputs)
        return dict(loss=out.pow(2).mean()) if mode == 'loss' else out


class RandomPoints(torch.utils.data.Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, index):
        return dict(inputs=torch.randn(2))


def make_runner(work_dir, max_epochs, resume, hooks=True):
    return Runner(
        model=TinyRegressor(), work_dir=str(work_dir), default_scope='mmengine',
        train_dataloader=dict(dataset=RandomPoints(), batch_size=2,
                              sampler=dict(type='DefaultSampler', shuffle=True),
                              collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        param_scheduler=dict(type='MultiStepLR', milestones=[1], by_epoch=True),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        custom_hooks=[dict(type='WeightsOnlyCheckpointHook')] if hooks else None,
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1)), resume=resume)


def test_runner_checkpoint_resumes_with_weights_only(tmp_path):
    make_runner(tmp_path, max_epochs=2, resume=False).train()
    checkpoint = tmp_path / 'epoch_2.pth'
    state = torch.load(checkpoint, weights_only=True)  # raises if anything is not allowed
    assert state['message_hub']['log_scalars']['train/loss']['log_history']

    resumed = make_runner(tmp_path, max_epochs=3, resume=True)
    resumed.train()
    assert resumed.iter == 12 and resumed.epoch == 3
    buffer = resumed.message_hub.get_scalar('train/loss')
    assert isinstance(buffer, HistoryBuffer)
    assert np.isfinite(buffer.mean()) and np.isfinite(buffer.current())


def test_buffers_round_trip_exactly():
    buffer = HistoryBuffer([0.1, 2.5, 3.0], [1, 2, 1], max_length=7)
    restored = plain_to_buffer(pickle.loads(pickle.dumps(buffer_to_plain(buffer))))
    assert restored.max_length == 7
    for original, copy in zip(buffer.data, restored.data):
        np.testing.assert_array_equal(original, copy)
        assert original.dtype == copy.dtype


def test_loading_changes_no_class():
    before = dict(vars(HistoryBuffer))
    hook = WeightsOnlyCheckpointHook()
    checkpoint = {'message_hub': {'log_scalars': {
        'loss': buffer_to_plain(HistoryBuffer([1.0], [1]))}}}
    hook.after_load_checkpoint(None, checkpoint)
    assert dict(vars(HistoryBuffer)) == before
    assert isinstance(checkpoint['message_hub']['log_scalars']['loss'], HistoryBuffer)


def test_the_hook_is_still_needed(tmp_path):
    """Fails once mmengine writes checkpoints that torch's weights-only unpickler accepts
    (open-mmlab/mmengine#1655): then this hook can go."""
    make_runner(tmp_path, max_epochs=1, resume=False, hooks=False).train()
    with pytest.raises(Exception, match='Weights only load failed'):
        torch.load(tmp_path / 'epoch_1.pth', weights_only=True)


def test_unlisted_objects_are_still_refused(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save({'payload': nn.Linear(1, 1)}, path)  # a whole module, not weights
    with pytest.raises(Exception, match='Weights only load failed'):
        torch.load(path, weights_only=True)
