"""Errors caused by what a user gave us (a file, a config, a flag, a dataset record), and how
our tools report them: one line naming the thing at fault, a non-zero exit, no traceback.
Anything else is our bug and keeps its traceback.
"""
import re
import sys
from typing import Callable, Optional, Sequence

# Exit status of a tool refused by bad input (argparse uses the same for bad flags).
INPUT_ERROR_STATUS = 2

# torch's DataLoader re-raises a worker's exception as the same type whose message is the
# worker's whole traceback; the last line is ``<module>.<Class>: <our message>``.
_WORKER_TRACEBACK = re.compile(r'^Caught \w+ in DataLoader worker process')


class InputError(Exception):
    """Bad input, described in one line that names the file, record, key or value at fault."""


class ConfigError(InputError, ValueError):
    """A config entry names a key, type or argument that does not exist, or a config file does
    not parse."""


class DatasetError(InputError, ValueError):
    """A dataset is empty, or its annotation / image / label files are missing or invalid."""


class ImageTooSmallError(InputError, ValueError):
    """An image (or ``--shape``) smaller than a model's total stride."""


class RunStopped(Exception):
    """A run stopped on request (a signal) in a resumable state; ``status`` is the exit status
    the tool ends with."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def one_line(error: BaseException) -> str:
    """The message of ``error``; for an error re-raised from a data-loader worker, the message
    the worker raised (its traceback dropped)."""
    message = str(error).strip()
    if _WORKER_TRACEBACK.match(message):
        last = message.splitlines()[-1]
        message = last.split(': ', 1)[1] if ': ' in last else last
    return message.splitlines()[0] if message else type(error).__name__


def _say(line: str) -> None:
    """``line`` on stderr in one write: ranks of one job share the stream, and print's two
    writes (text, then newline) interleave when it is unbuffered."""
    sys.stderr.write(f'{line}\n')
    sys.stderr.flush()


def run_tool(main: Callable[[Optional[Sequence[str]]], object],
             argv: Optional[Sequence[str]] = None) -> int:
    """Runs a tool's ``main(argv)``; an :class:`InputError` (or a missing file the user named)
    becomes ``error: <one line>`` on stderr and exit status :data:`INPUT_ERROR_STATUS`. Returns
    ``main``'s status (0 if it returns a non-int); a :class:`RunStopped` run ends with its
    ``status``. torch's refusal of an op under ``--deterministic`` is bad input too."""
    try:
        status = main(argv)
    except (InputError, FileNotFoundError) as error:
        _say(f'error: {one_line(error)}')
        return INPUT_ERROR_STATUS
    except RuntimeError as error:
        from .engine.determinism import deterministic_op_error  # torch stays out of this module
        refusal = deterministic_op_error(error)
        if refusal is None:
            raise
        _say(f'error: {refusal}')
        return INPUT_ERROR_STATUS
    except RunStopped as stop:
        _say(f'stopped: {stop}')
        return stop.status
    return status if isinstance(status, int) else 0

