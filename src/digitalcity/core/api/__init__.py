"""core REST endpoints: one django-ninja router per topic, mounted under /api/core/."""

from ninja import Router

from . import calendar, divisions, notifications

router = Router()
router.add_router("/divisions/", divisions.router)
router.add_router("/calendar/", calendar.router)
router.add_router("/notifications/", notifications.router)
