"""The file contracts between the compiler, the stages and the results readers, versioned.

``entry``: a stage's params.yaml entry (what a stage process reads); ``metrics``: the
results files stages write; ``detail``: which of their keys the metrics file DVC shows
keeps. Kept apart, and this file empty, because every stage imports ``entry`` and
``detail``: a new metrics field must not rerun every stage.

Two contracts: a stage's entry in ``params.yaml`` (written by ``emx compile``, read by every
stage and by ``emx show``/``diff``/``report``), and the ``metrics.json`` files stages write
into ``results/<stage>/`` (git-tracked, read across commits). A reader meeting a newer
version than it knows stops with a clear message rather than misreading a file.

WARNING: renaming or re-typing a field here changes files in users' git histories.
Add fields freely; change one only with a new ``VERSION`` and a reader for the old one.
Files without a ``schema`` key are version 1.
"""
