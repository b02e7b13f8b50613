"""Open311 GeoReport v2 endpoints (thin: parse, call services.py, render JSON or XML).

No session, no CSRF: calling systems authenticate a POST with `api_key`; reads are
public as the spec has them (and show only orders that came in by Open311).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from . import services
from .formats import error_response, render
from .services import Open311Error

View = Callable[..., HttpResponse]


def open311_view(view: View) -> View:
    """Turn Open311Error into the spec's error list in the request's format."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, fmt: str = "json", **kwargs: Any) -> HttpResponse:
        try:
            services.check_jurisdiction(
                request.GET.get("jurisdiction_id") or request.POST.get("jurisdiction_id")
            )
            return view(request, *args, fmt=fmt, **kwargs)
        except Open311Error as exc:
            headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
            return error_response(exc.status, exc.description, fmt, headers=headers)

    return wrapper


@require_GET
@open311_view
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    base = request.build_absolute_uri("/open311/v2/")
    data = {
        "changeset": "2026-11-22T00:00:00+08:00",
        "contact": _("12345政务服务便民热线"),
        "key_service": _("向12345中心申请接口密钥"),
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": base,
                "changeset": "2026-11-22T00:00:00+08:00",
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }
    return render(data, fmt, root="discovery")


@require_GET
@open311_view
def service_list(request: HttpRequest, fmt: str) -> HttpResponse:
    return render(services.services_list(), fmt, root="services")


@require_GET
@open311_view
def service_definition(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    return render(services.service_definition(code), fmt, root="service_definition")


@csrf_exempt
@require_http_methods(["GET", "POST"])
@open311_view
def requests(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "GET":
        return render(services.request_list(request.GET), fmt, root="service_requests")
    client = services.client_for_key(request.POST.get("api_key") or request.GET.get("api_key"))
    key = request.headers.get("Idempotency-Key") or request.POST.get("idempotency_key", "")
    result = services.submit(client=client, form=request.POST, idempotency_key=key)
    item: dict[str, Any]
    if result.order is None:
        item = {
            "token": result.submission.token,
            "service_notice": _("已收到，工单编号稍后可用 tokens/{token} 查询"),
        }
    else:
        item = {
            "service_request_id": result.order.case.number,
            "token": result.submission.token,
            "service_notice": _("已受理，请记下工单编号 %(n)s") % {"n": result.order.case.number},
            "account_id": None,
        }
    return render([item], fmt, root="service_requests", status=201 if result.created else 200)


@require_GET
@open311_view
def request_detail(request: HttpRequest, number: str, fmt: str) -> HttpResponse:
    return render([services.request_detail(number)], fmt, root="service_requests")


@require_GET
@open311_view
def token(request: HttpRequest, token: str, fmt: str) -> HttpResponse:
    return render([services.token_lookup(token)], fmt, root="service_requests")
