"""One module per stage kind, run by DVC as ``python -m stages.<kind> <stage-name>``.

These are the only modules that import torch, transformers, trl or sae-lens, and they do it
inside functions, so importing a stage module stays cheap.
"""
