"""The ``convnext-dense`` command: ``convnext-dense COMMAND [ARGS ...]``.

Each command is a module of this package with ``main(argv)``; :func:`run` calls it behind
:func:`convnext_dense.errors.run_tool`, so bad input ends in one line ``error: ...`` and exit
status 2. ``tools/<name>.py`` in the repository are shims over the same modules, for the mmdet /
mmseg habit of ``python tools/train.py CONFIG``.
"""
import ast
import importlib
import importlib.util
import os
import sys
from typing import Dict, Optional, Sequence

from ..errors import INPUT_ERROR_STATUS, run_tool

# Command name -> module of this package, in the order `convnext-dense --help` lists them.
COMMANDS: Dict[str, str] = {
    'train': 'train',
    'test': 'test',
    'infer': 'infer',
    'export': 'export',
    'demo': 'demo',
    'configs': 'configs',
    'print-config': 'print_config',
    'convert': 'convert',
    'flops': 'flops',
    'benchmark': 'benchmark',
    'plot-logs': 'plot_logs',
    'plot-benchmarks': 'plot_benchmarks',
    'model-zoo': 'model_zoo',
}
PROGRAM = 'convnext-dense'


def summary_of(command: str) -> str:
    """The first line of the command module's docstring, read without importing it (importing
    a command imports torch and mmdet: seconds)."""
    spec = importlib.util.find_spec(f'{__name__}.{COMMANDS[command]}')
    with open(spec.origin) as stream:
        docstring = ast.get_docstring(ast.parse(stream.read())) or ''
    return docstring.split('\n')[0]


def console_command() -> str:
    """How this Python runs the console script: ``convnext-dense`` beside the interpreter (a
    venv's ``bin``), else ``python -m convnext_dense``."""
    script = os.path.join(os.path.dirname(sys.executable), PROGRAM)
    return script if os.path.isfile(script) else f'{sys.executable} -m convnext_dense'


def usage() -> str:
    lines = [f'usage: {PROGRAM} COMMAND [ARGS ...]', '',
             'ConvNeXt V1 / V2 detectors (Mask R-CNN, Cascade Mask R-CNN) and segmentors '
             '(UperNet) on mmdet / mmseg.', '', 'commands:']
    lines += [f'  {name:<16}{summary_of(name)}' for name in COMMANDS]
    lines += ['', f'`{PROGRAM} COMMAND --help` shows a command\'s arguments; CONFIG is a file or '
              f'the name of a shipped config (`{PROGRAM} configs` lists them).']
    return '\n'.join(lines)


def run(command: str, argv: Optional[Sequence[str]] = None) -> int:
    """Runs ``command``'s ``main(argv)`` as the console does: its exit status."""
    module = importlib.import_module(f'{__name__}.{COMMANDS[command]}')
    return run_tool(module.main, argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The console script: dispatches ``argv[0]`` to its command."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ('-h', '--help'):
        print(usage())
        return 0 if argv else INPUT_ERROR_STATUS
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f'error: {command!r} is not a {PROGRAM} command; choose from '
              f'{", ".join(COMMANDS)}.', file=sys.stderr)
        return INPUT_ERROR_STATUS
    return run(command, rest)
