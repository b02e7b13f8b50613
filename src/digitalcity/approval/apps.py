from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApprovalConfig(AppConfig):
    name = "digitalcity.approval"
    label = "approval"
    verbose_name = _("行政审批")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings

        from digitalcity.core.files import register_file_access
        from digitalcity.core.worker import register_periodic

        from . import workflow
        from .jobs import run_deadlines
        from .queries import may_download_material, may_download_template
        from .services import TEMPLATE_PURPOSE

        workflow.register_type()
        register_file_access("approval-material", may_download_material)
        register_file_access(TEMPLATE_PURPOSE, may_download_template)
        register_periodic(
            "approval.deadlines",
            run_deadlines,
            every_seconds=getattr(settings, "DC_APPROVAL_SWEEP_SECONDS", 300),
        )
