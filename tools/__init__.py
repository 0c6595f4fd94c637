"""Maintenance tools of the repository (not shipped in the wheel): ``python tools/<name>.py``."""
