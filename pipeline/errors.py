"""The one exception type a user ever sees.

Every stage raises :class:`SinergiError` for bad input (a study key, a submission field, a table
row). The command line prints its message on one line and exits with status 2: no traceback.
"""


class SinergiError(Exception):
    """A problem the user can act on; the message names what and where."""
