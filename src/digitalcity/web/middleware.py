"""Chinese first: the language is Chinese unless the user picked another one."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.middleware.locale import LocaleMiddleware


class ChineseFirstLocaleMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware without the browser's Accept-Language by default.

    A government portal in China speaks Chinese to every visitor, including those whose
    browser is set to English; English is there for whoever chooses it (the language
    switch sets a cookie, which this still honours). DC_HONOR_BROWSER_LANGUAGE=true
    restores Django's usual negotiation.
    """

    def process_request(self, request: HttpRequest) -> None:
        if not settings.DC_HONOR_BROWSER_LANGUAGE:
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        super().process_request(request)
