"""Integrations with web frameworks: ``wsactions.contrib.flask``, ``wsactions.contrib.django``."""
