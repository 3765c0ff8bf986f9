"""How tools report bad input: one line, exit status 2, and a worker's own message."""
import pytest

from convnext_dense.errors import (INPUT_ERROR_STATUS, DatasetError, InputError, RunStopped,
                                   one_line, run_tool)


def test_a_worker_traceback_is_reduced_to_the_workers_message():
    # The form torch's DataLoader gives an exception re-raised from a worker process.
    message = ('Caught DatasetError in DataLoader worker process 0.\nOriginal Traceback (most '
               'recent call last):\n  File "x.py", line 1, in f\n    raise DatasetError(...)\n'
               'convnext_dense.errors.DatasetError: a.png: label value(s) [200] ...')
    assert one_line(DatasetError(message)) == 'a.png: label value(s) [200] ...'
    assert one_line(InputError('first line\nsecond')) == 'first line'


@pytest.mark.parametrize('raised, status, printed', [
    (DatasetError('data/x.json: no images'), INPUT_ERROR_STATUS, 'error: data/x.json: no images'),
    (FileNotFoundError('cfg.py: no such file'), INPUT_ERROR_STATUS, 'error: cfg.py: no such file'),
    (RunStopped('SIGTERM received', status=143), 143, 'stopped: SIGTERM received'),
])
def test_run_tool_prints_one_line_and_returns_the_status(capsys, raised, status, printed):
    def main(argv):
        raise raised
    assert run_tool(main) == status
    assert capsys.readouterr().err.strip() == printed


def test_our_bugs_keep_their_traceback():
    def main(argv):
        raise KeyError('a bug')
    with pytest.raises(KeyError):
        run_tool(main)
    assert run_tool(lambda argv: None) == 0 and run_tool(lambda argv: 1) == 1
