"""The ``gameai`` sub-commands, one module each (see :mod:`gameai.cli`)."""
