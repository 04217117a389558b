"""Where a judge's API key may come from and go to, and redaction that shows none of it.

A shared ``.emx`` is someone else's code: its ``api_key_env`` picks which environment secret
is read and its ``base_url`` where that secret is sent. So:

* ``api_key_env`` must look like a key variable: an uppercase name ending in ``_KEY`` or
  ``_TOKEN`` (``OPENAI_API_KEY``, ``HF_TOKEN``, ``EMX_JUDGE_KEY``), and not one of the
  well-known credentials of other services (:data:`DENIED_PREFIXES`, :data:`DENIED_WORDS`).
  Anything else that is not even an uppercase name is taken for a pasted key and never shown.
* The key goes over plain ``http://`` only to a loopback host (127.0.0.0/8, ::1, localhost),
  and then never through an ``HTTP_PROXY``.

The checker (``emdsl/check/calls.py``) and the ``openai`` backend apply the same rule, so a
hand-edited ``params.yaml`` or an override cannot get around it. Stdlib only: the checker
imports this module.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

Problem = tuple[str, str]  # (message, hint)

ENV_NAME = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*")
KEY_SUFFIXES = ("_KEY", "_TOKEN")  # _API_KEY ends in _KEY
# Credentials of services a judge never needs: cloud, code hosting, CI, package registries,
# chat, payments, experiment trackers.
DENIED_PREFIXES = ("AWS_", "AZURE_STORAGE_", "GOOGLE_APPLICATION_", "GCP_", "GITHUB_", "GH_",
                   "GITLAB_", "BITBUCKET_", "CI_", "ACTIONS_", "CIRCLE_", "TRAVIS_", "NPM_",
                   "NODE_AUTH_", "PYPI_", "TWINE_", "DOCKER_", "VAULT_", "CONSUL_", "SLACK_",
                   "DISCORD_", "TELEGRAM_", "STRIPE_", "HEROKU_", "CLOUDFLARE_",
                   "DIGITALOCEAN_", "SENTRY_", "CODECOV_", "WANDB_", "KAGGLE_", "DVC_")
DENIED_WORDS = frozenset({"SECRET", "PRIVATE", "PASSWORD", "PASSWD", "SESSION", "SSH", "GPG",
                          "SIGNING", "REFRESH"})
LOOPBACK_NAMES = frozenset({"localhost"})
EXAMPLE = "like `OPENAI_API_KEY`, `HF_TOKEN` or `EMX_JUDGE_KEY`"


def key_env_problem(name: str) -> Problem | None:
    """Why ``name`` may not be read as a judge's API key, or None.

    Shows ``name`` only when it is a known variable of another service; a value that is not a
    variable name may be the key itself, and a name outside the rule is shown by the location.
    """
    if not ENV_NAME.fullmatch(name):
        return ("api_key_env must name the environment variable that holds the key, and this "
                "value is not an uppercase variable name: it may be the key itself, so it is "
                "not shown", "never write a key into a .emx; `export OPENAI_API_KEY=...` and "
                "write `api_key_env=\"OPENAI_API_KEY\"`")
    if name.startswith(DENIED_PREFIXES) or DENIED_WORDS & set(name.split("_")):
        return (f"api_key_env `{name}` holds credentials of another service; a judge may not "
                "read it", f"put the judge's own key in a variable {EXAMPLE}")
    if not name.endswith(KEY_SUFFIXES):
        return ("api_key_env must name a key variable: an uppercase name ending in _API_KEY, "
                "_KEY or _TOKEN", f"put the judge's key in a variable {EXAMPLE}")
    return None


def is_loopback(host: str | None) -> bool:
    """127.0.0.0/8, ::1 or ``localhost``: traffic that never leaves the machine."""
    if not host:
        return False
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def plain_http_problem(base_url: str) -> Problem | None:
    """Why the key may not be sent to ``base_url``: plain http to a host that is not loopback.

    (Other schemes never get it either: the HTTP client refuses them before sending.)
    """
    parts = urlsplit(base_url)
    if parts.scheme.lower() != "http" or is_loopback(parts.hostname):
        return None
    return (f"base_url is plain http to {parts.hostname or 'no host'}: the API key would "
            "cross the network unencrypted",
            "use https://, or tunnel the server to this machine (`ssh -L 8000:HOST:8000 ...`) "
            "and use http://127.0.0.1:8000/v1")


MIN_FRAGMENT = 4  # shorter runs of a key's characters say nothing about it


def redact(text: str, secret: str | None) -> str:
    """``text`` with every run of ``MIN_FRAGMENT`` or more characters that occurs in ``secret``
    masked as ``***``: a server that echoes the key cut short, or only its tail, shows none
    of it."""
    if not secret:
        return text
    shortest = min(MIN_FRAGMENT, len(secret))
    out: list[str] = []
    i = 0
    while i < len(text):
        n = _match_length(text, i, secret)
        if n >= shortest:
            out.append("***")
            i += n
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _match_length(text: str, start: int, secret: str) -> int:
    """The length of the longest piece of ``secret`` that ``text`` holds at ``start``."""
    n = 0
    while start + n < len(text) and text[start:start + n + 1] in secret:
        n += 1
    return n
