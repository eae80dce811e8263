"""The pull-request report's word on hardware: which machines made each side's results, and
whether a difference could come from the machine rather than from the change.

Each side's ``reports/numerics.json`` (written by ``evaluate``) holds, per model, what pinned its
arithmetic. With ``numerics.portable`` the numbers do not depend on the machine; without, the
record names the CPU, and a model made on two different CPUs may differ for that reason alone.
"""

from __future__ import annotations

from collections.abc import Mapping


def describe(record: Mapping | None) -> str:
    """One side's machines, in words."""
    if not record:
        return "no reports/numerics.json (made before numerics were recorded)"
    cpus = sorted({r["machine_bound"]["model"] for r in record.values() if r and "machine_bound" in r})
    if not cpus:
        return "pinned numerics (portable): the same bits on any x86-64 machine"
    return "machine-bound (numerics.portable: false) on " + ", ".join(cpus)


def machine_notes(before: Mapping | None, after: Mapping | None, this_cpu: str) -> list[str]:
    """Markdown lines: both sides' hardware, and the models whose differences may be the machine's."""
    lines = [f"- base: {describe(before)}", f"- workspace: {describe(after)} (this report ran on {this_cpu})"]
    if not before or not after:
        return lines
    suspect = []
    for name in sorted(set(before) & set(after)):
        old, new = before[name] or {}, after[name] or {}
        if ("machine_bound" in old or "machine_bound" in new) and old.get("machine_bound") != new.get("machine_bound"):
            suspect.append(name)
    if suspect:
        lines.append(f"- made on different hardware without the pins, so their differences may come from the "
                     f"machine: {', '.join(suspect)}")
    changed = [name for name in sorted(set(before) & set(after))
               if (before[name] or {}).get("libraries") != (after[name] or {}).get("libraries")]
    if changed:
        lines.append(f"- library versions changed for: {', '.join(changed)}")
    if not suspect and not changed:
        lines.append("- same pins and libraries on both sides: every difference comes from code, params or data")
    return lines
