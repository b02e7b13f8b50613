"""The hotline's settings, read in one place (defaults in settings.py, docs/hotline.md)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = ["Bounds", "city_bounds", "webhook_secret"]


@dataclass(frozen=True)
class Bounds:
    south: float
    west: float
    north: float
    east: float

    def contains(self, lat: float, lon: float) -> bool:
        return self.south <= lat <= self.north and self.west <= lon <= self.east

    @property
    def center(self) -> tuple[float, float]:
        return ((self.south + self.north) / 2, (self.west + self.east) / 2)


def city_bounds() -> Bounds:
    raw = str(getattr(settings, "DC_HOTLINE_CITY_BOUNDS", "35.20,112.40,35.90,113.30"))
    try:
        south, west, north, east = (float(part) for part in raw.split(","))
    except ValueError:
        raise ImproperlyConfigured(
            f"DC_HOTLINE_CITY_BOUNDS 应为“南纬,西经,北纬,东经”四个数，收到 {raw!r}"
        ) from None
    if not (south < north and west < east):
        raise ImproperlyConfigured("DC_HOTLINE_CITY_BOUNDS 的南界须小于北界、西界须小于东界")
    return Bounds(south, west, north, east)


def webhook_secret(kind: str) -> bytes:
    """The shared secret of the `telephony` or `sms` webhook.

    Set DC_HOTLINE_TELEPHONY_SECRET / DC_HOTLINE_SMS_SECRET in production; unset, the
    secret is derived from SECRET_KEY, so the demo's simulator (same settings) signs
    correctly and nobody without SECRET_KEY can.
    """
    name = {"telephony": "DC_HOTLINE_TELEPHONY_SECRET", "sms": "DC_HOTLINE_SMS_SECRET"}[kind]
    configured = str(getattr(settings, name, "") or "")
    if configured:
        return configured.encode()
    return (
        hmac.new(settings.SECRET_KEY.encode(), f"hotline-{kind}".encode(), hashlib.sha256)
        .hexdigest()
        .encode()
    )


def center_code() -> str:
    return str(getattr(settings, "DC_HOTLINE_CENTER", "hotline-12345"))


def flood_limit() -> tuple[int, int]:
    return (
        int(getattr(settings, "DC_HOTLINE_FLOOD_LIMIT", 5)),
        int(getattr(settings, "DC_HOTLINE_FLOOD_WINDOW", 600)),
    )
