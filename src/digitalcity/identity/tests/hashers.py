"""A cheap Argon2 for tests: same algorithm and prefix, a fraction of the cost.

Production Argon2 (100 MiB, several passes) makes every persona take about a second to
create; tests check behaviour, not cost, and still see "argon2" hashes.
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class FastArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 1
    memory_cost = 64
    parallelism = 1
