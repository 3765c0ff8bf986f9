"""StopOnSignalHook's handler: a first signal is noted (the run stops after the step, tested
end to end in tests/tools/test_reliability_runs.py); a second one stops the run at once, since
a scheduler's SIGKILL follows the first within seconds and a user presses Ctrl-C again."""
import signal
from types import SimpleNamespace

import pytest
from mmengine.logging import MessageHub

from convnext_dense.engine.hooks.stop_on_signal import StopOnSignalHook
from convnext_dense.errors import RunStopped


def test_a_second_signal_stops_at_once_naming_the_last_checkpoint():
    hub = MessageHub.get_instance('stop-on-signal-test')
    hub.update_info('last_ckpt', 'work/iter_8.pth')
    hook = StopOnSignalHook()
    hook.before_train(SimpleNamespace(message_hub=hub))
    try:
        hook._note(signal.SIGTERM, None)
        assert hook._received == 'SIGTERM'
        with pytest.raises(RunStopped, match=r'^SIGINT received after SIGTERM: stopped at '
                           r'once, mid-step; resume from the last checkpoint '
                           r'\(work/iter_8\.pth\)') as stop:
            hook._note(signal.SIGINT, None)
        assert stop.value.status == 130
    finally:
        hook.after_train(None)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
