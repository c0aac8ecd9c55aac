"""Readers of other tools' declarations, by tool (Open Terms Archive: ``ota`` the command, ``ota_files`` reading a
collection's files, ``ota_terms`` translating one terms declaration)."""
