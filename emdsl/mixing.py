"""How a mix splits its size: shared by the checker and the data stage.

Kept in its own small module because the data stage lists every module it imports as a DVC
dependency; depending on all of ``emdsl.configs`` would rerun every data stage on any edit.
"""

import math
from fractions import Fraction

HALF = Fraction(1, 2)

# A mix may cycle through a dataset with fewer distinct examples than its share (the checker
# warns); past this many uses of each example it is a mistake, not a study (an error).
MAX_REPEATS = 100


def bad_count(poison: float, size: int) -> int:
    """round(poison·size) with halves rounding up, on the decimal ``poison`` is written as.

    Exact, not in floating point: 0.58 × 25 is 14.5 and gives 15, where the float product
    (14.499999999999998) gave 14. ``repr`` is the shortest decimal that reads back as the
    float, the number the .emx file wrote.
    """
    return min(size, math.floor(Fraction(repr(poison)) * size + HALF))
