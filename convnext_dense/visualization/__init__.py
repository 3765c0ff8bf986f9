from .legend import add_legend
from .log_curves import load_scalars, plot_log_curves

__all__ = ['add_legend', 'load_scalars', 'plot_log_curves']
