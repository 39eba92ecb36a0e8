"""SSL Lab backend: datasets, augmentation, encoders, objectives, training, run store and metrics.

Plain Python; never imports streamlit. Pages call into this package and draw what it returns.
"""

__version__ = "0.1.0"
