"""The one exception the recording library raises for anything a person must look at."""


class RecorderError(Exception):
    """A recording (directory, manifest, journal or track file) cannot be used as asked.

    The message says which file and what is wrong, in words an operator can act on; callers show
    it as it is (CLI) or log it (server) and never lose data because of it.
    """
