from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IdentityConfig(AppConfig):
    name = "digitalcity.identity"
    label = "identity"
    verbose_name = _("统一身份")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        from . import signals

        user_logged_in.connect(signals.start_session_clocks, dispatch_uid="dc_session_clocks")
        user_logged_out.connect(signals.audit_logout, dispatch_uid="dc_audit_logout")
