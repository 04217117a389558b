"""``emx init``: a research repo with git, DVC, a quickstart experiment and a .gitignore."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

TEMPLATES = Path(__file__).with_name("templates")

GITIGNORE = """\
# emdsl: large artifacts live in DVC's cache; these never belong in git
.venv/
__pycache__/
*.pyc
.*.tmp-*
.emx/
# outputs are DVC's: even an out of a removed stage must not slip into `git add -A`
/artifacts/
"""


def _run(cmd: list[str], cwd: Path) -> None:
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def complete_gitignore(target: Path) -> bool:
    """Append the scaffold's ignore lines that ``target/.gitignore`` lacks (an older scaffold's
    file gets only the new ones, e.g. ``.emx/``, the workspace lock); True if it changed."""
    gitignore = target / ".gitignore"
    existing = gitignore.read_text(encoding="utf-8") if gitignore.exists() else ""
    have = set(existing.splitlines())
    header, *lines = GITIGNORE.splitlines()
    missing = [line for line in lines if line not in have]
    if not missing:
        return False
    block = "\n".join(([header] if header not in have else []) + missing) + "\n"
    gitignore.write_text(existing + ("\n" if existing and not existing.endswith("\n") else "")
                         + block, encoding="utf-8")
    return True


SCAFFOLD = (".gitignore", ".dvcignore", ".dvc/config", ".dvc/.gitignore",
            "experiments/quickstart.emx")


def _commit(target: Path, message: str) -> bool:
    """Commit the scaffold's own files (never the user's other work), so the first run's
    changes show as changes; False when git has no identity to commit with."""
    paths = [p for p in SCAFFOLD if (target / p).exists()]
    subprocess.run(["git", "add", "--", *paths], cwd=target, check=True)
    done = subprocess.run(["git", "commit", "-q", "-m", message, "--", *paths], cwd=target,
                          capture_output=True, text=True)
    return done.returncode == 0


def init(target: Path) -> None:
    """Create (or complete) a project at ``target``; never overwrites the user's files."""
    target = target.resolve()
    target.mkdir(parents=True, exist_ok=True)
    created = []
    if not (target / ".git").exists():
        _run(["git", "init", "-q"], target)
        created.append("git repository")
    if not (target / ".dvc").exists():
        _run([sys.executable, "-m", "dvc", "init", "-q"], target)
        _run([sys.executable, "-m", "dvc", "config", "core.autostage", "true"], target)
        # DVC's usage analytics phone home from a background process on every command.
        _run([sys.executable, "-m", "dvc", "config", "core.analytics", "false"], target)
        created.append("DVC project")
    quickstart = target / "experiments" / "quickstart.emx"
    if not quickstart.exists():
        quickstart.parent.mkdir(exist_ok=True)
        quickstart.write_text((TEMPLATES / "quickstart.emx").read_text(encoding="utf-8"),
                              encoding="utf-8")
        created.append("experiments/quickstart.emx")
    if complete_gitignore(target):
        created.append(".gitignore")
    if created:
        committed = _commit(target, "emx init: " + ", ".join(created))
        created.append("a first commit" if committed else
                       "no commit (set git's user.name and user.email, then commit)")
    print(f"initialised {target}: " + (", ".join(created) if created else "nothing to do"))
    print(f"next: cd {target} && emx run experiments/quickstart.emx")
