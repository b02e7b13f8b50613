"""The two wire formats of GeoReport v2: JSON and XML, chosen by the path's extension.

XML follows the spec's examples: a plural root (`services`, `service_requests`,
`errors`) holding one element per item; lists inside an item (a definition's
`attributes`, an attribute's `values`) are nested the same way.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape

from django.http import HttpResponse
from django.utils import timezone

__all__ = ["error_response", "render", "w3c"]

#: For XML: the element name of one item inside each plural container.
ITEM_NAMES = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
}


def w3c(moment: dt.datetime | None) -> str | None:
    """W3C date-time in the city's time zone, e.g. 2026-11-23T17:30:00+08:00."""
    if moment is None:
        return None
    return timezone.localtime(moment).isoformat(timespec="seconds")


# Characters XML 1.0 cannot carry at all (a pasted description may contain them).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: Any) -> str:
    return escape(_NOT_XML.sub("", str(value)))


def _xml_value(name: str, value: Any, out: list[str]) -> None:
    if isinstance(value, Mapping):
        out.append(f"<{name}>")
        for key, inner in value.items():
            _xml_value(key, inner, out)
        out.append(f"</{name}>")
    elif isinstance(value, Sequence) and not isinstance(value, str):
        item = ITEM_NAMES.get(name, "item")
        out.append(f"<{name}>")
        for inner in value:
            _xml_value(item, inner, out)
        out.append(f"</{name}>")
    elif value is None:
        out.append(f"<{name}/>")
    elif isinstance(value, bool):
        out.append(f"<{name}>{'true' if value else 'false'}</{name}>")
    else:
        out.append(f"<{name}>{_text(value)}</{name}>")


def to_xml(root: str, data: Any) -> str:
    out = ['<?xml version="1.0" encoding="utf-8"?>']
    _xml_value(root, data, out)
    return "".join(out)


def render(data: Any, fmt: str, *, root: str, status: int = 200) -> HttpResponse:
    """`data` (a list for plural roots, a dict for `service_definition`) as JSON or XML."""
    if fmt == "xml":
        return HttpResponse(
            to_xml(root, data), status=status, content_type="text/xml; charset=utf-8"
        )
    return HttpResponse(
        json.dumps(data, ensure_ascii=False, separators=(",", ":")),
        status=status,
        content_type="application/json; charset=utf-8",
    )


def error_response(
    status: int, description: str, fmt: str, *, headers: Mapping[str, str] | None = None
) -> HttpResponse:
    """The spec's error list: [{"code": 400, "description": "…"}]."""
    response = render(
        [{"code": status, "description": description}], fmt, root="errors", status=status
    )
    for key, value in (headers or {}).items():
        response[key] = value
    return response
