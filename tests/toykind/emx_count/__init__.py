"""A stage kind from outside emdsl, as a researcher's own package would add one.

``kind.py`` declares it (a config call, its wiring, its results column) and registers it;
``stage.py`` is what DVC runs. The package's entry point (group ``emdsl.kinds``) names
``emx_count.kind``; tests/emdsl/test_kinds.py installs it as a distribution would.
"""
