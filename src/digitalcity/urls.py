"""URL map: pages per app, one REST API (django-ninja) with routers per app."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from digitalcity.api import api

admin.site.site_header = "数字城市政务平台 · 系统管理"
admin.site.site_title = "数字城市政务平台"
admin.site.index_title = "系统管理"

urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("accounts/", include("digitalcity.identity.urls")),
    path("core/", include("digitalcity.core.urls")),
    path("registry/", include("digitalcity.registry.urls")),
    path("approval/", include("digitalcity.approval.urls", namespace="approval")),
    path("open311/v2/", include("digitalcity.hotline.open311.urls")),  # GeoReport v2
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("digitalcity.cases.urls")),
    path("", include("digitalcity.hotline.urls")),
    path("", include("digitalcity.web.urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
