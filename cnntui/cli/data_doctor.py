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
    lines += _group_lines("exact duplicates (same bytes)", report["exact_duplicates"], root)
    lines += _group_lines("near duplicates (perceptual hash)", report["near_duplicates"], root)
    lines += _class_lines(report)
    lines += _outlier_lines(report["outliers"], root)
    if report["unreadable"]:
        lines += ["", f"unreadable: {len(report['unreadable'])}"]
        for u in report["unreadable"][:SHOW]:
            lines.append(f"  {_rel(u['path'], root)}: {u['reason']}")
    return lines + [f"note: {note}" for note in report["notes"]]


def _group_lines(title: str, groups: list[dict[str, Any]], root: str) -> list[str]:
    """One section of duplicate groups, leaks first, at most :data:`SHOW` of them."""
    groups = sorted(groups, key=lambda g: g["where"] != "across splits")
    if not groups:
        return []
    lines = ["", f"{title}: {len(groups)}"]
    for g in groups[:SHOW]:
        tag = "LEAK " if g["where"] == "across splits" else ""
        lines.append(f"  {tag}{g['where']}{_distance(g)}:")
        for f in g["files"][:SHOW]:
            lines.append(f"    {_rel(f['path'], root)}  [{f['split']}/{f['class']}]")
        if len(g["files"]) > SHOW:
            lines.append(f"    … and {len(g['files']) - SHOW} more in this group")
    if len(groups) > SHOW:
        lines.append(f"  … and {len(groups) - SHOW} more (--json lists all)")
    return lines


def _distance(group: dict[str, Any]) -> str:
    if "distance" not in group:
        return ""
    if len(group["files"]) == 2:
        return f", distance {group['distance']}, similarity {group['similarity']:.3f}"
    return f", distance <= {group['distance']}, similarity >= {group['similarity']:.3f}"


def _class_lines(report: dict[str, Any]) -> list[str]:
    imb = report["imbalance"]
    lines = ["", "classes (train)" + (f": imbalance {imb['ratio']:.1f}x" if imb["ratio"] else "")]
    for name, n in report["splits"]["train"]["classes"].items():
        lines.append(f"  {name:<24} {n:>7}  weight {imb['class_weights'][name]:.3f}")
    lines.append("  (weights: n_total / (n_classes * n_class), what --class-weight auto uses)")
    return lines


def _outlier_lines(outliers: list[dict[str, Any]], root: str) -> list[str]:
    if not outliers:
        return []
    lines = ["", f"outliers: {len(outliers)}"]
    for o in outliers[:SHOW]:
        lines.append(f"  {_rel(o['path'], root)}: {'; '.join(o['reasons'])}")
    if len(outliers) > SHOW:
        lines.append(f"  … and {len(outliers) - SHOW} more (--json lists all)")
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
