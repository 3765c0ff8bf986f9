"""The ``convnext-dense`` console: one command per module of ``convnext_dense.cli``, each run
behind ``run_tool``; the repository's ``tools/*.py`` are shims over the same commands."""
import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from convnext_dense.cli import COMMANDS, main, usage

REPO = Path(__file__).resolve().parents[2]


def test_help_lists_every_command_with_its_summary(capsys):
    assert main(['--help']) == 0
    listed = capsys.readouterr().out
    for command, module in COMMANDS.items():
        summary = importlib.import_module(f'convnext_dense.cli.{module}').__doc__.split('\n')[0]
        assert f'  {command:<16}{summary}' in listed
    assert listed.strip() == usage()


def test_an_unknown_command_is_one_line(capsys):
    assert main(['trian', 'x.py']) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: 'trian' is not a convnext-dense command; choose from train,")
    assert '\n' not in err


def test_no_command_prints_usage_and_fails(capsys):
    assert main([]) == 2
    assert capsys.readouterr().out.startswith('usage: convnext-dense COMMAND')


@pytest.mark.parametrize('command', list(COMMANDS))
def test_each_command_parses_its_help(command, capsys):
    module = importlib.import_module(f'convnext_dense.cli.{COMMANDS[command]}')
    with pytest.raises(SystemExit) as exit_:
        module.main(['--help'])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.startswith(f'usage: convnext-dense {command}')


def shim_command(path: Path) -> str:
    """The command a ``tools/*.py`` shim runs: the string given to ``run(...)``."""
    calls = [node for node in ast.walk(ast.parse(path.read_text()))
             if isinstance(node, ast.Call) and getattr(node.func, 'id', None) == 'run']
    assert len(calls) == 1, path
    return calls[0].args[0].value


def test_every_tool_is_a_shim_over_a_command():
    shims = sorted((REPO / 'tools').glob('*.py'))
    assert len(shims) == 12
    for shim in shims:
        assert shim_command(shim) in COMMANDS, shim
        assert len(shim.read_text().splitlines()) <= 7, shim


def test_the_shim_and_python_m_run_the_same_command(tmp_path):
    """The process is the subject: the shim's and ``python -m convnext_dense``'s exit status and
    one-line error for a config that does not exist."""
    for head in ([sys.executable, str(REPO / 'tools/print_config.py')],
                 [sys.executable, '-m', 'convnext_dense', 'print-config']):
        result = subprocess.run([*head, 'no_such_config'], cwd=tmp_path, capture_output=True,
                                text=True, timeout=300)
        assert result.returncode == 2, result.stderr[-2000:]
        assert result.stderr.strip().splitlines()[-1] == (
            'error: no_such_config: no such file, and no shipped config of that name '
            '(`convnext-dense configs` lists them).')
