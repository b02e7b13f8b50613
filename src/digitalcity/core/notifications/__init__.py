"""Notifications over SMS, email and the in-site inbox, behind one service.

Callers use `services.notify(...)` / `services.notify_user(...)` inside their own
transaction; sending happens after commit (a task, and the worker's sweep as a backstop).
"""
