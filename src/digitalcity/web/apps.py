from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    name = "digitalcity.web"
    label = "web"
    verbose_name = _("门户与工作台")
