"""How a run was started, as its record keeps it: the command typed for a run by hand.

The command is kept as typed (`knowrepo run sales -p month=2026-11`), quoted for a shell, with
the value of each private parameter masked wherever it stands: after `-p NAME=`, and anywhere
else its text appears (an option's value of its own, a `--from` id is no secret), and each
path of the machine shortened as a traceback's are (`-C /home/alice/repo`, `--params-file
/tmp/p.yaml`): the command is published on the run's page.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence

from knowrepo.support.secrets import MASK, scrub
from knowrepo.support.tracebacks import shorten_paths

ASSIGNING = ("-p", "--param", "-r", "--raw")  # options whose value is NAME=VALUE
# -p or -r after `run`'s short flags in one word, as click reads them (`-vp`, `-qvptoken=x`)
_SHORT = re.compile(r"-[vq]*[pr]")
MAX_COMMAND = 2000  # characters of a command a record keeps


def typed_command(
    argv: Sequence[str], private: Sequence[str], secrets: list[str], roots: Sequence[str] = ()
) -> str:
    """`knowrepo ARGS` as typed, private values masked, paths shortened (`roots`: the
    repository's, whose files are shown relative to it; argv without the program's name)."""
    words, after_option = [], False
    for word in argv:
        words.append(_masked_word(word, after_option, private))
        after_option = word in ASSIGNING or _SHORT.fullmatch(word) is not None
    command: str = shorten_paths(scrub(shlex.join(["knowrepo", *words]), secrets), roots)
    return command[:MAX_COMMAND]


def _masked_word(word: str, after_option: bool, private: Sequence[str]) -> str:
    """`word` with a private parameter's value masked: `NAME=VALUE` after -p or -r, or the
    option and its assignment in one word (`-pNAME=VALUE`, `-vpNAME=VALUE`, `--param=NAME=VALUE`)."""
    prefix, assignment = "", word
    if not after_option:
        short = _SHORT.match(word)
        joined = (*([short.group()] if short else []), "--param=", "--raw=")
        prefix = next((j for j in joined if word.startswith(j) and len(word) > len(j)), "")
        assignment = word[len(prefix) :] if prefix else ""
    name, equals, _value = assignment.partition("=")
    if equals and name.strip() in private:
        return f"{prefix}{name}={MASK}"
    return word
