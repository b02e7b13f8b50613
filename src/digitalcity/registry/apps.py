from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "digitalcity.registry"
    label = "registry"
    verbose_name = _("基础数据库")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from digitalcity.core.files import register_file_access

        from .permissions import can_download_import_file

        register_file_access("registry-import", can_download_import_file)
