"""Plain-text rendering of the ``cnntui data doctor`` report."""

from __future__ import annotations

from typing import Any

SHOW = 20  # groups listed per section; --json has all


def _rel(path: str, root: str) -> str:
    from cnntui.core.data.inspect import relative

    return relative(path, root)


def format_doctor(report: dict[str, Any]) -> list[str]:
    """The doctor's report as lines of text."""
    root = report["source"]
    s = report["summary"]
    lines = [
        f"source   {root}  ({report['layout']}, {len(report['class_names'])} classes, "
        f"{report['images']} readable images)",
        f"found    {s['exact_duplicates']} exact duplicate(s), {s['near_duplicates']} near "
        f"duplicate(s) (phash distance <= {report['max_distance']}, thumbnail "
        f"correlation >= {report['min_similarity']}), {s['leaked']} leak(s) "
        f"across splits, {s['conflicting_labels']} picture(s) under two classes",
    ]
    for title, key in (("exact duplicates (same bytes)", "exact_duplicates"),
                       ("near duplicates (perceptual hash)", "near_duplicates")):  # fmt: skip
        groups = sorted(report[key], key=lambda g: g["where"] != "across splits")
        if not groups:
            continue
        lines += ["", f"{title}: {len(groups)}"]
        for g in groups[:SHOW]:
            tag = "LEAK " if g["where"] == "across splits" else ""
            if "distance" not in g:
                dist = ""
            elif len(g["files"]) == 2:
                dist = f", distance {g['distance']}, similarity {g['similarity']:.3f}"
            else:
                dist = f", distance <= {g['distance']}, similarity >= {g['similarity']:.3f}"
            lines.append(f"  {tag}{g['where']}{dist}:")
            for f in g["files"][:SHOW]:
                lines.append(f"    {_rel(f['path'], root)}  [{f['split']}/{f['class']}]")
            if len(g["files"]) > SHOW:
                lines.append(f"    … and {len(g['files']) - SHOW} more in this group")
        if len(groups) > SHOW:
            lines.append(f"  … and {len(groups) - SHOW} more (--json lists all)")
    imb = report["imbalance"]
    lines += ["", "classes (train)" + (f": imbalance {imb['ratio']:.1f}x" if imb["ratio"] else "")]
    counts = report["splits"]["train"]["classes"]
    for name, n in counts.items():
        lines.append(f"  {name:<24} {n:>7}  weight {imb['class_weights'][name]:.3f}")
    lines.append("  (weights: n_total / (n_classes * n_class), what --class-weight auto uses)")
    if report["outliers"]:
        lines += ["", f"outliers: {len(report['outliers'])}"]
        for o in report["outliers"][:SHOW]:
            lines.append(f"  {_rel(o['path'], root)}: {'; '.join(o['reasons'])}")
        if len(report["outliers"]) > SHOW:
            lines.append(f"  … and {len(report['outliers']) - SHOW} more (--json lists all)")
    if report["unreadable"]:
        lines += ["", f"unreadable: {len(report['unreadable'])}"]
        for u in report["unreadable"][:SHOW]:
            lines.append(f"  {_rel(u['path'], root)}: {u['reason']}")
    for note in report["notes"]:
        lines.append(f"note: {note}")
    return lines


def format_fix(result: dict[str, Any], root: str) -> list[str]:
    """What ``--fix`` wrote and what it left out."""
    lines = [
        "",
        f"wrote {result['destination']}: {result['kept']} files ({result['how']}), "
        f"left out {len(result['left_out'])}:",
    ]
    lines += [f"  {_rel(g['path'], root)}: {g['reason']}" for g in result["left_out"]]
    return lines
