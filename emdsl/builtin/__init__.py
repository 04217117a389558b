"""The project's own data: chat datasets, free-form questions and judge prompts.

Written for emdsl; nothing here is copied from the published papers' files.
"""
