"""Errors a command reports to its user in one line (``gameai.cli.main``), not as a traceback.

Exception tree of what ``gameai`` commands report that way::

    ValueError                a bad option or input value (config validation, a model that does
                              not fit the data, ...)
    FileNotFoundError         an input that is not there (a recording, a model directory)
    RuntimeError
     └── StepOrderError       a step whose input an earlier step makes is missing or belongs to
                              another run (``export`` before ``fit``, a checkpoint of another
                              recording)

Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class StepOrderError(RuntimeError):
    """What a training step needs from an earlier step is missing or belongs to another run.

    The message says which step to run (or what to delete) first.
    """
