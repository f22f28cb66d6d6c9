"""The one exception type a user can cause, so the CLI and notebooks can show one clear line."""


class ForceMLPError(Exception):
    """A problem the user can fix (bad data, bad option, diverged run); the message says how."""
