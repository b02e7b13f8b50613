"""Number formats of the approval pages."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def pct(value: float | None) -> str:
    """0.857 -> "85.7%"; None (nothing to count) -> "—"."""
    if value is None:
        return "—"
    return f"{value * 100:.1f}%"
