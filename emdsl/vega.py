"""The vega libraries DVC's plots need, kept on this machine so plots render offline.

``dvc plots show`` writes HTML that loads vega, vega-lite and vega-embed from a CDN: offline
the page is blank. ``emx plots`` hands DVC a template with the three libraries inlined
instead. They come from the npm registry, once per machine (``emx plots --install``, run by
``make setup``), as the exact versions DVC's renderer writes its specs for.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

# (npm package@version, the file inside its tarball): the versions dvc_render's vega
# renderer targets (dvc_render/vega.py SCRIPTS).
LIBRARIES = (("vega@5.20.2", "package/build/vega.min.js"),
             ("vega-lite@5.2.0", "package/build/vega-lite.min.js"),
             ("vega-embed@6.18.2", "package/build/vega-embed.min.js"))

TEMPLATE = """<!DOCTYPE html>
<html>
<head>
    {refresh_tag}
    <meta charset="utf-8">
    <title>emx plots</title>
    %s
    <style>
        table { border-spacing: 15px; }
    </style>
</head>
<body>
    {plot_divs}
</body>
</html>
"""


def bundle_dir() -> Path:
    """Where the libraries live: ``$EMX_VEGA_DIR``, else inside this Python environment."""
    return Path(os.environ.get("EMX_VEGA_DIR") or Path(sys.prefix) / "share" / "emdsl" / "vega")


def files(folder: Path | None = None) -> list[Path]:
    folder = folder or bundle_dir()
    return [folder / Path(inner).name for _, inner in LIBRARIES]


def installed(folder: Path | None = None) -> bool:
    return all(f.is_file() and f.stat().st_size > 0 for f in files(folder))


def install(folder: Path | None = None) -> Path:
    """Fetch the three libraries with ``npm pack`` (the registry, no CDN) into ``folder``."""
    folder = folder or bundle_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(["npm", "pack", "--silent", *(p for p, _ in LIBRARIES)],
                              cwd=tmp, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"npm pack failed: {done.stderr.strip()[:300]}")
        for (package, inner), target in zip(LIBRARIES, files(folder), strict=True):
            name = package.replace("@", "-", 1).lstrip("@") + ".tgz"
            with tarfile.open(Path(tmp) / name) as tar:
                data = tar.extractfile(inner)
                if data is None:
                    raise RuntimeError(f"{name} has no {inner}")
                tmp_target = target.with_name(f".{target.name}.tmp")
                tmp_target.write_bytes(data.read())
                tmp_target.replace(target)
    return folder


def template(folder: Path | None = None) -> str:
    """An HTML template for ``dvc plots --html-template`` with the libraries inlined."""
    scripts = "\n".join(f"<script>{f.read_text(encoding='utf-8')}</script>"
                        for f in files(folder))
    return TEMPLATE.replace("%s", scripts, 1)
