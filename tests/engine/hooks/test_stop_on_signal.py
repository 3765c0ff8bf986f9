"""StopOnSignalHook's handler: a first signal is noted (the run stops after the step, tested
end to end in tests/tools/test_reliability_runs.py); a second one stops the run at once, since
a scheduler's SIGKILL follows the first within seconds and a user presses Ctrl-C again; the
same request delivered twice within a moment (a launcher forwarding it to a group that had it)
is one. Several ranks, and data-loader workers: tests/tools/test_multi_rank_runs.py."""
import signal
from types import SimpleNamespace

import pytest
from mmengine.logging import MessageHub

from convnext_dense.engine.hooks.stop_on_signal import REPEAT_WINDOW_S, StopOnSignalHook
from convnext_dense.errors import RunStopped


@pytest.fixture
def hook():
    hub = MessageHub.get_instance('stop-on-signal-test')
    hub.update_info('last_ckpt', 'work/iter_8.pth')
    hook = StopOnSignalHook()
    hook.before_train(SimpleNamespace(message_hub=hub))
    yield hook
    hook.after_train(None)


def test_the_same_signal_delivered_twice_at_once_is_one_request(hook):
    hook._note(signal.SIGTERM, None)
    hook._note(signal.SIGTERM, None)
    assert hook._received == 'SIGTERM'


def test_a_second_signal_stops_at_once_naming_the_last_checkpoint(hook):
    hook._note(signal.SIGTERM, None)
    assert hook._received == 'SIGTERM'
    hook._received_at -= REPEAT_WINDOW_S
    with pytest.raises(RunStopped, match=r'^SIGINT received after SIGTERM: stopped at '
                       r'once, mid-step; resume from the last checkpoint '
                       r'\(work/iter_8\.pth\)') as stop:
        hook._note(signal.SIGINT, None)
    assert stop.value.status == 130


def test_the_previous_handlers_come_back_after_training():
    hook = StopOnSignalHook()
    hook.before_train(SimpleNamespace(message_hub=None))
    assert signal.getsignal(signal.SIGINT) == hook._note
    hook.after_train(None)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
