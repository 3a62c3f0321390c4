"""The printable case file (HTML)."""
