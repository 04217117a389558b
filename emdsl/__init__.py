"""emdsl: declarative emergent-misalignment experiments, compiled to DVC pipelines.

Empty on purpose: every stage imports a module of this package, so whatever is here is part
of every stage's code identity. The version is the package metadata's (`emx --version`).
"""
