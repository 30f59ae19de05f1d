"""Exceptions the core raises; the Processing algorithms turn them into QgsProcessingException."""


class InputError(ValueError):
    """Bad input: the message says what is wrong and what to do."""


class Cancelled(Exception):
    """The user cancelled the run."""
