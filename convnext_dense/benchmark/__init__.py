"""Speed, memory, FLOPs and parameters of backbones and of whole models, side by side."""
from .backbone import BackboneBenchmarkSettings, run_backbone_benchmark
from .full_model import ModelBenchmarkSettings, run_model_benchmark
from .harness import ImplementationsDisagree, check_agreement
from .report import format_table, plot_report, validate_report, write_json

__all__ = [
    'BackboneBenchmarkSettings', 'run_backbone_benchmark', 'ModelBenchmarkSettings',
    'run_model_benchmark', 'ImplementationsDisagree', 'check_agreement', 'format_table',
    'plot_report', 'validate_report', 'write_json'
]
