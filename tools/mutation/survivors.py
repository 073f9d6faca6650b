"""Print the survivors of the last ``make mutation`` as the Markdown table of docs/mutation.md.

Why: every mutant no test detects must be listed with a one-line reason. Reasons already in
docs/mutation.md are reused when the same mutant (same name, same change) survives again, so a
rerun only asks for reasons for what is new; those rows say ``TODO``. Run from the repository
root after a run: ``python tools/mutation/survivors.py [docs/mutation.md]``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROW = re.compile(
    r"^\| `(?P<name>[^`]+)` \| (?P<status>\w+) \| (?P<change>.*) \| (?P<why>[^|]*) \|$"
)


def known_reasons(doc: Path) -> dict[tuple[str, str], str]:
    """(mutant, change) -> reason, from the survivors table of `doc`."""
    out: dict[tuple[str, str], str] = {}
    if doc.is_file():
        for line in doc.read_text().splitlines():
            if m := ROW.match(line):
                out[(m["name"], m["change"])] = m["why"].strip()
    return out


def change(name: str, mutmut: str) -> str:
    """`old` → `new`: the first removed and added lines of the mutant's diff."""
    diff = subprocess.run([mutmut, "show", name], capture_output=True, text=True).stdout
    old = next(
        (ln[1:].strip() for ln in diff.splitlines() if ln[:1] == "-" and ln[:3] != "---"), ""
    )
    new = next(
        (ln[1:].strip() for ln in diff.splitlines() if ln[:1] == "+" and ln[:3] != "+++"), ""
    )
    return f"`{old}` → `{new}`".replace("|", "\\|")


def main(argv: list[str]) -> int:
    doc = Path(argv[0] if argv else "docs/mutation.md")
    mutmut = str(Path(sys.executable).with_name("mutmut"))
    reasons = known_reasons(doc)
    print("| mutant | status | change | why it survives |")
    print("| --- | --- | --- | --- |")
    for line in Path("mutants/undetected.txt").read_text().splitlines():
        status, full = line.split("\t")
        name = full.removeprefix("pieces_widgets.")
        text = change(full, mutmut)
        print(f"| `{name}` | {status} | {text} | {reasons.get((name, text), 'TODO')} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
