"""Readers of other tools' declarations, one module per tool (``ota``: Open Terms Archive)."""
