"""Projectors: durable JetStream consumers that build the read models in PostgreSQL."""
