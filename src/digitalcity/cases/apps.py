from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "digitalcity.cases"
    label = "cases"
    verbose_name = _("办件引擎")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings

        from digitalcity.core.worker import register_periodic

        from .sweep import sweep

        register_periodic("cases.clocks", sweep, every_seconds=settings.DC_CASES_SWEEP_SECONDS)
        if settings.DC_CASES_EXAMPLE_TYPES:
            from . import examples

            examples.register_examples()
