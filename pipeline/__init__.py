"""sinergi: measure social capital among village UMKM owners before and after a program.

One module per pipeline stage (``instrument``, ``demo``, ``pull``, ``tidy``, ``scales``,
``network``, ``prepost``, ``report``); the command line in :mod:`pipeline.cli` is a thin edge
over them.
"""

__version__ = "0.1.0"
