"""The YAML writer: whatever plain data goes in, PyYAML reads the same data back."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from emdsl.emit import dump

_keys = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8)
_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
                     st.floats(allow_nan=False, allow_infinity=False), _keys,
                     st.sampled_from(["yes", "no", "on", "off", "null", "~", "1e5", "0x1f", "-",
                                      "a: b", "#x", "- x", "'q'", '"', "2025-01-01", ".5"]))
_data = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(_keys, inner, max_size=4)), max_leaves=20)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(_keys, _data, max_size=5))
def test_dump_round_trips_through_pyyaml(obj):
    assert yaml.safe_load(dump(obj)) == (obj or None)
