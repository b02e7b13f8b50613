"""Template filters for masked display: `{% load masking %}{{ user.id_number|mask_id }}`."""

from __future__ import annotations

from django import template

from digitalcity.identity import masking

register = template.Library()

register.filter("mask_id", masking.mask_id_number)
register.filter("mask_phone", masking.mask_phone)
register.filter("mask_name", masking.mask_name)
register.filter("mask_uscc", masking.mask_uscc)
register.filter("mask_address", masking.mask_address)
