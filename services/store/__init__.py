"""PostgreSQL: the event store (source of truth), its tables and the database engine."""
