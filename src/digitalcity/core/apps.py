from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "digitalcity.core"
    label = "core"
    verbose_name = _("基础平台")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Change logging is infrastructure (STYLE.md 3): signal handlers write the audit log.
        from digitalcity.core.audit import signals  # noqa: F401

        # Backstop for the send task: retries and rows the task queue never got.
        from digitalcity.core.notifications.delivery import sweep_due
        from digitalcity.core.worker import register_periodic

        register_periodic("core.notifications.sweep", sweep_due, every_seconds=30)
