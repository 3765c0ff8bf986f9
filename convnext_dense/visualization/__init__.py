from .log_curves import load_scalars, plot_log_curves

__all__ = ['load_scalars', 'plot_log_curves']
