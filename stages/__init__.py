"""One entry module per stage kind, run by DVC as ``python -m stages.<kind> <stage-name>``.

Entry modules import ``stages.common`` (the runtime core) and ``stages.lib`` (shared helpers),
never each other; judge backends, samplers and training methods are registered
implementations (``stages.lib.registry``) loaded by name. torch, transformers, trl and sae-lens
are imported inside functions, so importing a stage module stays cheap.
"""
