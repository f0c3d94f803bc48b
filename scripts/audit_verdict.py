#!/usr/bin/env python3
"""Judge a dependency audit report (scripts/audit_deps.sh): exit 1 on unaccepted known vulnerabilities.

Usage: audit_verdict.py REPORT.json [TOOL_EXIT_CODE] [--accepted ACCEPTED.toml] [--reachable]

The report is pip-audit's JSON, or the same shape from scripts/audit_pypi.py.

* Vulnerabilities found: each is listed (package, version, id, fixed in). One that is in
  ACCEPTED.toml (reviewed, with a reason) and has no fixed release yet is printed as
  accepted; any other one, or an accepted one for which a fix now exists, fails (exit 1).
* Packages that could not be looked up are named, never hidden.
* Nothing could be looked up at all (no report, or every package skipped): NOT CHECKED,
  exit 0, so an offline CI does not fail for that reason.

``--reachable`` only answers whether the report looked up at least one package (exit 0)
or none (exit 3): audit_deps.sh uses it to decide whether to fall back to audit_pypi.py.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from pathlib import Path

UNREACHABLE = 3


def load_report(path: Path) -> list[dict] | None:
    try:
        deps = json.loads(path.read_text(encoding="utf-8"))["dependencies"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return deps if isinstance(deps, list) else None


def load_accepted(path: Path | None) -> dict[tuple[str, str], str]:
    """(package, vulnerability id) -> reason, from ``[[accepted]]`` tables (package, ids, reason)."""
    if path is None:
        return {}
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    accepted = {}
    for entry in data.get("accepted", []):
        package, reason = str(entry["package"]).lower(), str(entry["reason"]).strip()
        for vuln_id in entry["ids"]:
            accepted[(package, str(vuln_id))] = reason
    return accepted


def _skipped(deps: list[dict]) -> list[dict]:
    return [d for d in deps if "skip_reason" in d]


def verdict(deps: list[dict], accepted: dict[tuple[str, str], str]) -> int:
    audited = [d for d in deps if "skip_reason" not in d]
    skipped = _skipped(deps)
    if not audited:
        reasons = sorted({str(d.get("skip_reason", ""))[:80] for d in deps})
        print(f"dependency audit NOT CHECKED: none of the {len(deps)} packages could be looked up "
              f"(the vulnerability service is unreachable from here: {reasons[0] if reasons else 'no packages'})")
        return 0
    failing: list[str] = []
    tolerated: dict[tuple[str, str, str], list[str]] = {}  # (package, version, reason) -> ids
    for dep in audited:
        for vuln in dep.get("vulns") or []:
            key = (str(dep["name"]).lower(), str(vuln.get("id")))
            fixes = list(vuln.get("fix_versions") or [])
            if key in accepted and not fixes:
                tolerated.setdefault((dep["name"], dep.get("version", "?"), accepted[key]), []).append(key[1])
                continue
            failing.append(f"  {dep['name']} {dep.get('version', '?')}: {vuln.get('id')} "
                           f"(fixed in: {', '.join(fixes) or 'no fixed version yet'})"
                           + ("  <- accepted earlier, but a fixed release exists now: upgrade" if key in accepted else ""))
    if tolerated:
        print(f"dependency audit: {sum(len(ids) for ids in tolerated.values())} known vulnerabilities without "
              "a fixed release, reviewed and accepted (scripts/audit_accepted.toml):")
        for (name, version, reason), ids in tolerated.items():
            print(f"  {name} {version}: {', '.join(ids)}\n      why accepted: {reason}")
    if skipped:
        print(f"dependency audit: {len(skipped)} of {len(deps)} packages NOT CHECKED:")
        for dep in skipped:
            print(f"  {dep['name']} {dep.get('version', '?')}: {dep['skip_reason']}")
    if failing:
        print(f"dependency audit FAILED: {len(failing)} known vulnerabilities:")
        print("\n".join(failing))
        return 1
    print(f"dependency audit: no unaccepted known vulnerabilities in {len(audited)} packages"
          + (f" ({len(skipped)} could not be checked, listed above)" if skipped else ""))
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("tool_exit", nargs="?", type=int, default=0)
    parser.add_argument("--accepted", type=Path, default=None)
    parser.add_argument("--reachable", action="store_true")
    args = parser.parse_args(argv[1:])
    deps = load_report(args.report)
    if args.reachable:
        return 0 if deps and len(_skipped(deps)) < len(deps) else UNREACHABLE
    if deps is None:
        print(f"dependency audit NOT CHECKED: the audit produced no report (exit {args.tool_exit}); "
              "the vulnerability service is probably unreachable from here")
        return 0
    return verdict(deps, load_accepted(args.accepted))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
