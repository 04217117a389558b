"""``emx plots [show | diff REV...]``: DVC's plots, rendered offline.

``dvc plots show`` and ``dvc plots diff`` with a template that carries the vega libraries
inline (``emdsl.vega``), so the page draws without network. Only the top-level plots
``emx compile`` defines (one experiment's variants overlaid) are drawn; each stage's own plot
file is there too in plain ``dvc plots show``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from emdsl.cli.common import fail, root_here


def add_parser(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("plots", help="dvc plots show / diff, drawn offline (vega inlined)")
    s.add_argument("action", nargs="?", choices=["show", "diff"], default="show")
    s.add_argument("revs", nargs="*", help="with diff: the revisions (default: HEAD)")
    s.add_argument("--out", default="dvc_plots", help="output folder (default dvc_plots/)")
    s.add_argument("--install", action="store_true",
                   help="fetch the vega libraries from the npm registry (once per machine)")
    s.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from emdsl import vega

    if args.install:
        try:
            print(f"vega libraries in {vega.install()}")
        except (OSError, RuntimeError) as e:
            return fail(f"could not fetch the vega libraries ({e}); they come from the npm "
                        "registry: install npm, or set EMX_VEGA_DIR to a folder holding "
                        + ", ".join(f.name for f in vega.files()))
        return 0
    if not vega.installed():
        return fail(f"the vega libraries are not in {vega.bundle_dir()}: run `emx plots "
                    "--install` once (or `dvc plots show`, which needs network to draw)")
    root = root_here()
    ids = top_level_plot_ids(root)
    if not ids:
        return fail("dvc.yaml defines no plots: `emx compile` an experiment with a "
                    "training, steering, re-alignment or poison-sweep stage")
    template = root / ".emx" / "vega-template.html"
    template.parent.mkdir(parents=True, exist_ok=True)
    template.write_text(vega.template(), encoding="utf-8")
    cmd = [sys.executable, "-m", "dvc", "plots", args.action, *(args.revs or []),
           "--html-template", str(template), "--out", args.out, *ids]
    from emdsl.remote import dvc_env

    return subprocess.run(cmd, cwd=root, env=dvc_env()).returncode


def top_level_plot_ids(root) -> list[str]:
    """The ids of dvc.yaml's top-level plots (``experiment/plot``)."""
    import yaml

    try:
        text = (root / "dvc.yaml").read_text(encoding="utf-8")
    except OSError:
        return []
    SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return [pid for p in (yaml.load(text, Loader=SafeLoader) or {}).get("plots") or []
            for pid in p]
