"""Extraction: a pure function from the bytes of one capture and its rules to a document (no Scrapy, no I/O)."""
