"""The one error type the command line turns into a clear message and exit code 2."""


class UsageError(Exception):
    """A usage, config or spec problem the user can fix; the message names it and the fix."""
