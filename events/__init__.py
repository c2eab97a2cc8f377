"""The one vocabulary every part shares: event Structs, their schema versions and upcasters,
and the subject naming on NATS. Imports only the standard library and msgspec."""
