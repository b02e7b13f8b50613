"""`/open311/v2/…` (mounted by digitalcity/urls.py). Every path takes `.json` or `.xml`."""

from django.urls import path, register_converter

from . import views


class FormatConverter:
    regex = "json|xml"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(FormatConverter, "o311fmt")

app_name = "open311"
urlpatterns = [
    path("discovery.<o311fmt:fmt>", views.discovery, name="discovery"),
    path("services.<o311fmt:fmt>", views.service_list, name="services"),
    path("services/<str:code>.<o311fmt:fmt>", views.service_definition, name="service"),
    path("requests.<o311fmt:fmt>", views.requests, name="requests"),
    path("requests/<str:number>.<o311fmt:fmt>", views.request_detail, name="request"),
    path("tokens/<str:token>.<o311fmt:fmt>", views.token, name="token"),
]
