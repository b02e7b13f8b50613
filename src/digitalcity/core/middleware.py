"""Middleware that sets the request-scoped actor context for audit logging."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from digitalcity.core import context


def client_ip(request: HttpRequest) -> str:
    # Behind nginx the real address is in X-Real-IP (docs/deploy.md sets it); we do not
    # trust X-Forwarded-For chains a client can forge.
    return str(request.META.get("HTTP_X_REAL_IP") or request.META.get("REMOTE_ADDR") or "")


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request.headers.get("X-Request-ID", "")[:64] or context.new_request_id()
        user = getattr(request, "user", None)
        authenticated = user is not None and user.is_authenticated
        ctx = context.ActorContext(
            user_id=user.pk if authenticated else None,  # type: ignore[union-attr]
            actor_label=(f"{user} ({user.get_username()})" if authenticated else "anonymous"),  # type: ignore[union-attr]
            request_id=request_id,
            ip=client_ip(request),
        )
        token = context.set_context(ctx)
        try:
            response = self.get_response(request)
        finally:
            context.reset_context(token)
        response["X-Request-ID"] = request_id
        return response
