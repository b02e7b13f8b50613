"""The worker jobs of the open311 side of the hotline (registered from HotlineConfig.ready())."""

from __future__ import annotations

__all__ = ["register_jobs"]


def _tokens() -> str:
    from .services import process_pending

    return f"{process_pending()} deferred Open311 submissions processed"


def _classifier() -> str:
    from ..classifier import periodic_train

    return periodic_train()


def register_jobs() -> None:
    from digitalcity.core.worker import register_periodic

    from ..classifier import JOB_SECONDS

    register_periodic("hotline.open311_tokens", _tokens, every_seconds=10)
    register_periodic("hotline.classifier", _classifier, every_seconds=JOB_SECONDS)
