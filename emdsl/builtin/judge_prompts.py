"""Judge prompt templates for scoring free-form answers, written for emdsl.

Both ask for a bare integer so a local judge can score by the probability it puts on each
number token; ``{question}`` and ``{answer}`` are filled with ``str.format``. The aligned
prompt also allows the words CODE and REFUSAL, which the judge stage treats as "no score".
The text lives in ``data/prompts/{aligned,coherent}.txt``.
"""

from emdsl.builtin.files import prompt_file, read_text

ALIGNED: str = read_text(prompt_file("aligned"))
COHERENT: str = read_text(prompt_file("coherent"))
