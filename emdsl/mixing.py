"""How a mix splits its size: shared by the checker and the data stage.

Kept in its own small module because the data stage lists every module it imports as a DVC
dependency; depending on all of ``emdsl.configs`` would rerun every data stage on any edit.
"""

import math


def bad_count(poison: float, size: int) -> int:
    """round(poison·size) with halves rounding up (Python's round() would send 2.5 to 2)."""
    return min(size, math.floor(poison * size + 0.5))
