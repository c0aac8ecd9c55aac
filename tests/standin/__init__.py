"""Local stand-ins for the outside services the project talks to (a Wayback-compatible web archive)."""
