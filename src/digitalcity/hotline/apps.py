from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HotlineConfig(AppConfig):
    name = "digitalcity.hotline"
    label = "hotline"
    verbose_name = _("12345政务服务便民热线")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .open311.jobs import register_jobs
        from .workflow import register_order_type

        register_order_type()
        # open311's periodic jobs: classifier retraining, deferred Open311 submissions.
        register_jobs()
