"""The HTTP API (Litestar): thin controllers over the application services."""
