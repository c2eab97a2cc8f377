"""Command handlers: load a stream's state, decide with the pure domain, append — all in
one transaction."""
