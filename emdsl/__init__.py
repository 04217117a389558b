"""emdsl: declarative emergent-misalignment experiments, compiled to DVC pipelines."""

__version__ = "0.1.0"
