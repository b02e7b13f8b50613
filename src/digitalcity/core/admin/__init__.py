"""Django admin for core models, one module per topic."""

from . import audit, calendar, departments, divisions, files, notifications  # noqa: F401
