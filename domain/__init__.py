"""The pure model of specialist training: state, decisions and the rules of RULES.md.
Imports only the standard library and ``events``; the clock and new ids come in as
arguments."""
