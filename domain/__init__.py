"""The pure model of specialist training: state, decisions and the rules of RULES.md.
Imports only the standard library and ``events``; the clock and new ids come in as
arguments. See ``docs/rules.md`` for the rule-by-rule map.

Aggregates (each: commands as a tagged union, a state Struct, ``evolve``, ``decide``; both
dispatch one line per type and end in ``assert_never``):
- ``doctor`` (``commands``, ``records`` and ``state``, ``decide``, ``requests``) -- a
  doctor's record; ``decide(cmd, state, catalogue=..., organisations=...)``.
- ``organisation`` (``commands``, ``state``, ``decide``) -- leaders and delegations;
  ``authority(org, hpr, on)`` (R5).
- ``catalogue`` -- versioned objectives and carry-over (R4); ``catalogue_import`` reads
  JSON/CSV; ``catalogues`` ships the sample.
- ``application`` -- submission (needs readiness, R6) and decision.

Rules and read side: ``rulesets`` (numbers and choices per rule set, effective dates),
``calendar_days`` and ``service_time`` (R8, R10), ``time_requirements`` (R1, R9, R11),
``approval`` and ``assessment_rules`` (R4, R5), ``supervision`` (R12, R13), ``blockers``
(everything flagged), ``progress`` (``progress`` and ``readiness``), ``rejection``
(``Rejection``, ``Blocker``), ``copying`` (``copy_as``: a command becomes its event, an
event its piece of state).
"""
