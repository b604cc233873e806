"""neurotheory: the shared library of the executable textbook *Neurotheory in Code*.

One module per idea. Chapters import what they need::

    from neurotheory import runtime, plotting, widgets
"""

__version__ = "0.1.0"
