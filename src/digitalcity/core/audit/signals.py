"""Signal handlers that write the audit log (filled by the audit module)."""
