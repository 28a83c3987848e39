"""The errors a run raises when it cannot go on; the commands print their message as one
line and exit with status 1."""


class TrainingFailed(RuntimeError):
    """A run cannot go on or cannot report a number (e.g. it is no longer finite); the
    message says why, what was kept and what to do."""
