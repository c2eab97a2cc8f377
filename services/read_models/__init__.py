"""Read models: their tables, how an event changes them (used by the projectors) and how
they are queried (used by the API). Shared by both so neither imports the other."""
