"""Audit log: append-only, hash-chained."""
