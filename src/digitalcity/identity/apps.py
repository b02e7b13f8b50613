from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IdentityConfig(AppConfig):
    name = "digitalcity.identity"
    label = "identity"
    verbose_name = _("统一身份")
    default_auto_field = "django.db.models.BigAutoField"
