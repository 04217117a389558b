"""Sampling answers: the shared loop (core, sample) and registered decoders (plain, static,
vllm)."""
