"""Combine benchmark reports (tools/benchmark.py --json) into one bar chart and a Markdown table.

    python tools/plot_benchmarks.py work_dirs/bench/*.json --out docs/results/benchmark.png
"""
import argparse
import json
import sys

from convnext_dense.benchmark import plot_report, validate_report
from convnext_dense.benchmark.report import format_markdown
from convnext_dense.errors import run_tool


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('reports', nargs='+', help='JSON reports, one chart panel each')
    parser.add_argument('--out', required=True, help='PNG to write')
    args = parser.parse_args(argv)
    reports = []
    for path in args.reports:
        with open(path) as stream:
            report = json.load(stream)
        validate_report(report)
        reports.append(report)
    plot_report(reports, args.out)
    print(format_markdown(reports))
    print(f'plot: {args.out}')


if __name__ == '__main__':
    sys.exit(run_tool(main))
