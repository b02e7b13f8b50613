"""Open311 GeoReport v2 for other systems (docs/open311.md; http://wiki.open311.org/GeoReport_v2).

`views.py` parses and renders (JSON and XML), `services.py` holds the rules (API keys,
rate limits, submissions, deferred tokens), `formats.py` the two wire formats. Mounted
at `/open311/v2/` by `digitalcity/urls.py`.
"""
