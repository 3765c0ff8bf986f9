"""Benchmark reports: one JSON schema, a text table for people and a bar chart for the README.

Schema (``validate_report`` checks it)::

    {"meta": {"kind": "backbone" | "model", "mode": ..., "batch_size": ..., "device": ...,
              "device_name": ..., "matmul_peak_gflops": ..., "environment": {...}, ...},
     "results": {NAME: {"images_per_s": {"median", "min", "max"},
                        "latency_ms": {"median", "min", "max"},
                        "peak_memory_mb": float | null, "params_m": float, "gflops": float,
                        "ratio_to_fastest_peer": float | null, "matmul_peak_fraction": float,
                        "max_abs_diff": float | null}}}

``gflops`` counts multiply-adds of one image's forward pass; ``matmul_peak_fraction`` is the
achieved FLOP/s (2 per multiply-add, x3 in training) over a matmul's FLOP/s measured in the same
run on the same device.
"""
import datetime
import json
import os
import platform
from importlib import metadata
from typing import Dict, List, Optional

import torch

from ..engine.precision import precision_settings
from ..fileio import write_atomically
from .harness import TRAIN_WORK_PER_FORWARD, Timings, ratios_to_fastest_peer

STAT_KEYS = ('median', 'min', 'max')
ENTRY_KEYS = ('images_per_s', 'latency_ms', 'peak_memory_mb', 'params_m', 'gflops',
              'ratio_to_fastest_peer', 'matmul_peak_fraction', 'max_abs_diff')
VERSIONED_PACKAGES = ('torch', 'torchvision', 'timm', 'mmpretrain', 'mmengine', 'mmdet',
                      'mmsegmentation', 'convnext-dense')


class ReportSchemaError(ValueError):
    """A benchmark report lacks a key or has a value of the wrong type."""


def build_results(timings: Dict[str, Timings], peak_memory: Dict[str, Optional[int]],
                  params: Dict[str, int], flops: Dict[str, int], batch_size: int, mode: str,
                  matmul_peak: float, max_abs_diff: Optional[Dict[str, float]] = None) -> dict:
    """The ``results`` part of a report: one entry per model, keyed by its name."""
    medians = {n: t.images_per_s(batch_size)['median'] for n, t in timings.items()}
    ratios = ratios_to_fastest_peer(medians)
    work = TRAIN_WORK_PER_FORWARD if mode == 'train' else 1
    return {
        name: dict(
            images_per_s=timings[name].images_per_s(batch_size),
            latency_ms=timings[name].latency_ms(),
            peak_memory_mb=None if peak_memory[name] is None else peak_memory[name] / 2**20,
            params_m=params[name] / 1e6,
            gflops=flops[name] / 1e9,
            ratio_to_fastest_peer=ratios[name],
            matmul_peak_fraction=2 * flops[name] * work * medians[name] / matmul_peak,
            max_abs_diff=None if max_abs_diff is None else max_abs_diff[name],
        )
        for name in timings
    }


def environment() -> dict:
    """Date, Python, the versions of the packages a reader needs to reproduce the figures, and
    the float32 precision settings (TF32, cuDNN autotuning) the run had."""
    versions = {}
    for package in VERSIONED_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return dict(date=datetime.date.today().isoformat(), python=platform.python_version(),
                platform=platform.platform(), versions=versions,
                cuda=torch.version.cuda, precision=precision_settings())


def validate_report(report: dict) -> None:
    """Raises :class:`ReportSchemaError` naming the first missing key or mistyped value."""
    for key in ('meta', 'results'):
        if not isinstance(report.get(key), dict):
            raise ReportSchemaError(f'report[{key!r}] must be a dict.')
    for key in ('kind', 'mode', 'batch_size', 'device', 'device_name', 'matmul_peak_gflops',
                'environment'):
        if key not in report['meta']:
            raise ReportSchemaError(f"report['meta'] lacks {key!r}.")
    if not report['results']:
        raise ReportSchemaError("report['results'] is empty.")
    for name, entry in report['results'].items():
        for key in ENTRY_KEYS:
            if key not in entry:
                raise ReportSchemaError(f"report['results'][{name!r}] lacks {key!r}.")
        for key in ('images_per_s', 'latency_ms'):
            for stat in STAT_KEYS:
                if not isinstance(entry[key].get(stat), (int, float)):
                    raise ReportSchemaError(
                        f"report['results'][{name!r}][{key!r}][{stat!r}] must be a number.")


def write_json(report: dict, path: str) -> None:
    """Validates ``report`` and writes it atomically (temporary file + rename)."""
    validate_report(report)
    write_atomically(json.dumps(report, indent=2), path)


def _fmt(value: Optional[float], pattern: str) -> str:
    return '-' if value is None else pattern.format(value)


def _subject(meta: dict) -> str:
    """What was timed: the backbone arch (``V2`` with GRN; its stochastic depth, if any), the
    op, or the kind of run."""
    if 'op' in meta:
        layout = f" {meta['layout']}" if meta['op'] == 'soft_nms' else ''
        return f"{meta['op']} x{meta['count']}{layout}"
    if 'arch' not in meta:
        return meta['kind']
    drop_path = f" drop path {meta['drop_path_rate']:g}" if meta.get('drop_path_rate') else ''
    return f"{meta['arch']}{' V2' if meta.get('use_grn') else ''}{drop_path}"


def format_table(report: dict) -> str:
    """The report as an aligned text table, fastest first, with a header line of settings."""
    meta = report['meta']
    subject = (f"{meta['kind']} {_subject(meta)}" if 'arch' in meta or 'op' in meta
               else meta['kind'])
    header = (f"{subject} {meta['mode']} batch {meta['batch_size']} "
              f"{meta.get('dtype', 'fp32')} on {meta['device_name']}; matmul peak "
              f"{meta['matmul_peak_gflops']:.0f} GFLOP/s")
    unit = meta.get('unit', 'img')
    columns = ['impl', f'{unit}/s med', 'min', 'max', f'ms/{unit if "unit" in meta else "batch"}',
               'peak MB', 'params M', 'GFLOPs',
               'vs fastest peer', '% matmul peak']
    rows: List[List[str]] = []
    ranked = sorted(report['results'].items(),
                    key=lambda item: -item[1]['images_per_s']['median'])
    for name, entry in ranked:
        rate = entry['images_per_s']
        rows.append([
            name, f"{rate['median']:.2f}", f"{rate['min']:.2f}", f"{rate['max']:.2f}",
            f"{entry['latency_ms']['median']:.1f}", _fmt(entry['peak_memory_mb'], '{:.0f}'),
            f"{entry['params_m']:.2f}", f"{entry['gflops']:.2f}",
            _fmt(entry['ratio_to_fastest_peer'], '{:.3f}x'),
            f"{100 * entry['matmul_peak_fraction']:.0f}%"
        ])
    widths = [max(len(r[i]) for r in rows + [columns]) for i in range(len(columns))]
    lines = [header, '  '.join(c.ljust(w) for c, w in zip(columns, widths))]
    lines += ['  '.join(v.ljust(w) for v, w in zip(row, widths)) for row in rows]
    if meta.get('relative_error_vs_float64'):
        lines.append('relative error vs float64: ' + ', '.join(
            f'{name} {error:.1e}' for name, error in meta['relative_error_vs_float64'].items()))
    return '\n'.join(lines)


def format_markdown(reports: List[dict]) -> str:
    """One Markdown table over several reports: a row per (setting, implementation)."""
    lines = ['| setting | impl | images (or calls) / s (median, min-max) | vs fastest peer | '
             'peak memory MB | % of matmul peak |', '|---|---|---|---|---|---|']
    for report in reports:
        meta = report['meta']
        setting = (f"{_subject(meta)} {meta['mode']} b{meta['batch_size']} "
                   f"{meta.get('dtype', 'fp32')}")
        ranked = sorted(report['results'].items(),
                        key=lambda item: -item[1]['images_per_s']['median'])
        for name, entry in ranked:
            rate = entry['images_per_s']
            lines.append(
                f"| {setting} | {name} | {rate['median']:.2f} ({rate['min']:.2f}-"
                f"{rate['max']:.2f}) | {_fmt(entry['ratio_to_fastest_peer'], '{:.3f}x')} | "
                f"{_fmt(entry['peak_memory_mb'], '{:.0f}')} | "
                f"{100 * entry['matmul_peak_fraction']:.0f}% |")
    return '\n'.join(lines)


def format_compiled_markdown(reports: List[dict]) -> str:
    """One Markdown table of the eager / compiled pairs of ``--compile`` reports: a row per
    model, with the ratio, each one's first step (for the compiled one, mostly compilation) and
    the graph breaks dynamo found."""
    from .compiled import compiled_name
    lines = ['| setting | model | eager img/s | compiled img/s | compiled / eager | '
             'first step s, eager / compiled | graph breaks |', '|---|---|---|---|---|---|---|']
    for report in reports:
        meta, results = report['meta'], report['results']
        setting = (f"{_subject(meta)} {meta['mode']} b{meta['batch_size']} "
                   f"{meta.get('dtype', 'fp32')}")
        for name, breaks in meta.get('graph_breaks', {}).items():
            eager = results[name]['images_per_s']['median']
            compiled = results[compiled_name(name)]['images_per_s']['median']
            first = meta['first_step_s']
            lines.append(f"| {setting} | {name} | {eager:.2f} | {compiled:.2f} | "
                         f"{compiled / eager:.2f}x | {first[name]:.1f} / "
                         f"{first[compiled_name(name)]:.1f} | {_count_breaks(breaks)} |")
    return '\n'.join(lines)


def _count_breaks(breaks: dict) -> str:
    """'0', or per part ('backbone 0, neck 0') for whole models."""
    if 'breaks' in breaks:
        return str(breaks['breaks'])
    return ', '.join(f"{part} {found['breaks']}" for part, found in breaks.items())


def plot_report(reports: List[dict], path: str) -> None:
    """Horizontal bars of median images/s (min-max whiskers), one panel per report."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots(len(reports), 1, figsize=(7, 1.2 * len(reports) + 0.5 * sum(
        len(r['results']) for r in reports)), squeeze=False)
    for axis, report in zip(axes[:, 0], reports):
        _plot_panel(axis, report)
    figure.tight_layout()
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    figure.savefig(path, dpi=120, bbox_inches='tight')  # long names push titles past the edge
    plt.close(figure)


def _plot_panel(axis, report: dict) -> None:
    meta = report['meta']
    ranked = sorted(report['results'].items(),
                    key=lambda item: item[1]['images_per_s']['median'])
    names = [name for name, _ in ranked]
    medians = [entry['images_per_s']['median'] for _, entry in ranked]
    lows = [m - entry['images_per_s']['min'] for m, (_, entry) in zip(medians, ranked)]
    highs = [entry['images_per_s']['max'] - m for m, (_, entry) in zip(medians, ranked)]
    colours = ['tab:orange' if name == 'ours' or name.startswith(('ours ', 'ours-', 'soft_nms'))
               else 'tab:blue' for name in names]
    rows = range(len(names))
    axis.barh(rows, medians, height=0.45, xerr=[lows, highs], color=colours, capsize=3)
    # Names above their bars, not as tick labels: long config names would squeeze the bars.
    axis.set_yticks([])
    for y, (name, entry) in enumerate(ranked):
        ratio = entry['ratio_to_fastest_peer']
        label = f"{medians[y]:.2f}" + ('' if ratio is None else f'  ({ratio:.2f}x)')
        axis.text(medians[y] + highs[y], y, '  ' + label, va='center', fontsize=8)
        axis.text(0.005, y + 0.27, name, va='bottom', fontsize=8,
                  transform=axis.get_yaxis_transform())
    axis.set_ylim(-0.45, len(names) - 0.05)
    axis.set_xlim(0, max(m + h for m, h in zip(medians, highs)) * 1.35)
    axis.set_xlabel(f"{meta.get('unit', 'image')}s / s (median over interleaved rounds; "
                    f"whiskers min-max)")
    axis.set_title(f"{_subject(meta)} {meta['mode']}, batch {meta['batch_size']}"
                   f", {meta.get('dtype', 'fp32')}, {meta['device_name']}", fontsize=9)
