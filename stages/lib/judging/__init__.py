"""Judges: a shared interface (base), verdict cache, metrics, audit, and registered backends
(local, openai, probe) that :func:`stages.lib.judging.factory.make_judge` loads by name."""
