"""The app config of ``wsactions.contrib.django`` (app label ``wsactions``)."""

from __future__ import annotations

from django.apps import AppConfig


class WsactionsConfig(AppConfig):
    """Customer accounts of wsactions: the models, their migrations and the system checks."""

    name = "wsactions.contrib.django"
    label = "wsactions"
    verbose_name = "wsactions customer accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Register the system checks (importing the module registers them)."""
        from . import checks  # noqa: F401
