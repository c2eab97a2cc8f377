"""Relay: copies committed events from the event store to the JetStream stream."""
