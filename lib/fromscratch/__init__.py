"""fromscratch: the reference implementations that the course chapters import and show.

One module per concept; each docstring names the chapter that teaches it. The package
depends only on torch, numpy, matplotlib and scikit-learn (for the bundled digits data),
so that it can ship to students unchanged.
"""

__version__ = "0.1.0"
