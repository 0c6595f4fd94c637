"""Storage backends. :mod:`wsactions.backends.memory` is the in-memory one."""
