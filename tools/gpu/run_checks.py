"""The one-shot device check (convnext_dense/benchmark/device_check.py): every CUDA path a lent
GPU must prove, in priority order, within a time budget; one JSON line per check and a summary.

    python tools/gpu/run_checks.py --device cuda --budget-s 480 --out $OUT
    python tools/gpu/run_checks.py --device cpu --out work_dirs/device_check   # reduced sizes

How to run it on a lent GPU in one call, and what to commit: tools/gpu/README.md.
"""
import argparse
import sys

import convnext_dense  # noqa: F401  (first: installs the mmcv._ext kernel finder)
from convnext_dense.benchmark.device_check import plan, run_checks
from convnext_dense.errors import run_tool


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--device', default='cuda', help='cuda (the full check) or cpu')
    parser.add_argument('--out', required=True, help='folder for checks.jsonl and summary.md')
    parser.add_argument('--budget-s', type=float, default=480,
                        help='no check starts after this many seconds (default 8 minutes)')
    parser.add_argument('--only', nargs='+', metavar='CHECK',
                        help="run these checks only: names or shell patterns such as 'compiled_*' "
                        '(names: --list)')
    parser.add_argument('--list', action='store_true', help='print the checks, in order')
    args = parser.parse_args(argv)
    if args.list:
        print('\n'.join(name for name, _ in plan(args.device)))
        return 0
    results = run_checks(args.device, args.out, args.budget_s, args.only)
    return 1 if any(r.passed is False for r in results) else 0


if __name__ == '__main__':
    sys.exit(run_tool(main))
