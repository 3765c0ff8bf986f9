"""Combine benchmark reports (``benchmark --json``) into one bar chart and a Markdown table
(and a table of eager / compiled pairs, for ``--compile`` reports).

    convnext-dense plot-benchmarks work_dirs/bench/*.json --out docs/results/benchmark.png
"""
import json

from ..benchmark import plot_report, validate_report
from ..benchmark.report import format_compiled_markdown, format_markdown
from .common import command_parser


def main(argv=None) -> None:
    parser = command_parser('plot-benchmarks', __doc__)
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
    compiled = [report for report in reports if 'graph_breaks' in report['meta']]
    if compiled:
        print(format_compiled_markdown(compiled))
    print(f'plot: {args.out}')

