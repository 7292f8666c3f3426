"""``cnntui data doctor``: duplicates, leakage between splits, imbalance and outliers.

- exact duplicates: the same bytes (BLAKE2b of the file);
- near duplicates: a 64-bit perceptual hash (``imagehash.phash``: DCT of a 32x32 grey
  thumbnail) within ``max_distance`` bits finds the candidates, and the two thumbnails'
  correlation confirms them (at least ``min_similarity``), so a re-encoded, resized or
  brightened copy is found and two different pictures of one simple shape (two
  handwritten "1"s, which the hash puts within 6 bits) are not; each group or pair is
  placed *within a class*, *across classes* (one picture, two labels) or *across splits*
  (**leakage**: the same picture in train and val/test);
- imbalance: images per class and the weights ``--class-weight auto`` uses,
  ``n_total / (n_classes * n_c)`` (scikit-learn's "balanced");
- outliers: tiny images, extreme aspect ratios, sizes far from the median, mostly blank.

One pass decodes each file once, reduced on load (JPEG ``draft``), in parallel threads.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cnntui.core.data.check import default_threads
from cnntui.core.data.errors import DataError
from cnntui.core.data.folders import FolderScan, scan_folder
from cnntui.core.data.linkdir import check_destination, write_linked
from cnntui.core.images import ImageReadError, open_image_with_info, to_color_mode

MAX_DISTANCE = 6  # of 64 bits: re-encoded / 10 %-resized copies land at 0-4
# thumbnail correlation of a confirmed near duplicate: re-encoded, resized, brightened or
# contrast-changed copies score 0.998-1.0; of the 11,728 pairs of different MNIST digits
# within 6 hash bits, the closest scored 0.9896 (bench/probe_near_duplicates.py)
MIN_SIMILARITY = 0.995
FLAT_STD = 2.0  # grey levels: a thumbnail this even has no pattern to correlate
FLAT_MEAN = 8.0  # two flat thumbnails are one picture when their means are this close
THUMB = 32
TINY_SIDE = 32
EXTREME_ASPECT = 3.0
FAR_SIZE = 4.0  # area this many times above or below the median
BLANK_SHARE = 0.95  # share of thumbnail pixels within BLANK_TOLERANCE of the median
BLANK_TOLERANCE = 8
INSTALL_HINT = "pip install 'imagehash>=4.3.2'"


@dataclass
class Probe:
    """What the doctor learns from one file."""

    path: str
    split: str
    label: int
    digest: str = ""
    phash: int | None = None
    thumb: np.ndarray | None = None  # uint8 (THUMB, THUMB) grey, what phash saw
    width: int = 0
    height: int = 0
    blank: bool = False
    reason: str = ""


def class_weights(counts: dict[str, int]) -> dict[str, float]:
    """Inverse-frequency weights ``n_total / (n_classes * n_c)``, scikit-learn's "balanced"
    rule, over the classes that have images (empty classes: 0). ``--class-weight auto``."""
    total, k = sum(counts.values()), sum(1 for n in counts.values() if n)
    return {c: (total / (k * n) if n else 0.0) for c, n in counts.items()}


def _phash_module():
    try:
        import imagehash
    except ImportError:
        raise DataError(
            f"data doctor needs the imagehash package for near duplicates: {INSTALL_HINT}"
        ) from None
    return imagehash


def _probe(item: tuple[str, int, str], imagehash) -> Probe:
    path, label, split = item
    p = Probe(path, split, label)
    try:
        with open(path, "rb") as fh:
            p.digest = hashlib.blake2b(fh.read(), digest_size=16).hexdigest()
        img, info = open_image_with_info(path, draft=(64, 64))
    except ImageReadError as exc:
        p.reason = exc.reason
        return p
    except OSError as exc:
        p.reason = f"cannot read file ({exc.strerror or exc})"
        return p
    try:
        from PIL import Image

        p.width, p.height = info.width, info.height
        grey = to_color_mode(img, "grayscale")  # as training sees it (16-bit, alpha, palette)
        thumb = grey.resize((THUMB, THUMB), Image.Resampling.LANCZOS)
        p.thumb = np.asarray(thumb, np.uint8)
        px = p.thumb.astype(np.int16)
        p.blank = bool(np.mean(np.abs(px - np.median(px)) <= BLANK_TOLERANCE) >= BLANK_SHARE)
        p.phash = int(str(imagehash.phash(thumb)), 16)
    except Exception as exc:  # noqa: BLE001 - one odd file must not stop the doctor
        p.reason = f"cannot analyse image ({type(exc).__name__}: {exc})"
    return p


def _groups(keys: dict[int, Any]) -> list[list[int]]:
    by: dict[Any, list[int]] = defaultdict(list)
    for i, k in keys.items():
        by[k].append(i)
    return [sorted(g) for g in by.values() if len(g) > 1]


def thumb_stats(thumbs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of each (N, THUMB * THUMB) grey thumbnail."""
    x = thumbs.astype(np.float32)
    return x.mean(1), x.std(1)


def pair_similarities(
    thumbs: np.ndarray, mean: np.ndarray, std: np.ndarray, ii: np.ndarray, jj: np.ndarray
) -> np.ndarray:
    """:func:`similarity` of the thumbnail pairs ``(ii[k], jj[k])``, in chunks."""
    out = np.zeros(len(ii), np.float32)
    flat_i, flat_j = std[ii] < FLAT_STD, std[jj] < FLAT_STD
    both = flat_i & flat_j
    out[both] = np.abs(mean[ii[both]] - mean[jj[both]]) <= FLAT_MEAN
    patterned = np.flatnonzero(~flat_i & ~flat_j)
    for start in range(0, len(patterned), 4096):
        k = patterned[start : start + 4096]
        a = thumbs[ii[k]].astype(np.float32) - mean[ii[k], None]
        b = thumbs[jj[k]].astype(np.float32) - mean[jj[k], None]
        out[k] = np.einsum("ij,ij->i", a, b) / thumbs.shape[1] / (std[ii[k]] * std[jj[k]])
    return out


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """How alike two grey thumbnails are: their Pearson correlation (1.0: the same pattern,
    whatever the brightness and contrast). Flat thumbnails have no pattern: two of them score
    1.0 when their means are within :data:`FLAT_MEAN` levels, else 0.0, and a flat one
    against a patterned one 0.0."""
    thumbs = np.stack([np.ravel(a), np.ravel(b)])
    mean, std = thumb_stats(thumbs)
    return float(pair_similarities(thumbs, mean, std, np.array([0]), np.array([1]))[0])


def _near_edges(
    hashes: np.ndarray,
    thumbs: np.ndarray,
    stats: tuple[np.ndarray, np.ndarray],
    max_distance: int,
    min_similarity: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Confirmed near-duplicate links as a spanning forest: ``(i, j)`` index pairs (into
    ``hashes``), at most one fewer than the pictures they join, so a folder of thousands of
    look-alike pages costs memory in proportion to its size, not to its pairs.

    Candidates come blockwise from the hash (Hamming distance within ``max_distance``);
    each block's confirmed links are folded into the forest (a minimum spanning tree over
    the hash distance keeps the closest links).
    """
    n = len(hashes)
    mean, std = stats
    keep_i, keep_j = np.zeros(0, np.int64), np.zeros(0, np.int64)
    block = max(64, min(1024, (1 << 25) // max(1, n)))  # a block's distances: <= 32 MB
    for start in range(0, n, block):
        dist = np.bitwise_count(hashes[start : start + block, None] ^ hashes[None, :])
        ii, jj = np.nonzero(dist <= max_distance)
        ii += start
        upper = ii < jj
        ii, jj = ii[upper], jj[upper]
        alike = pair_similarities(thumbs, mean, std, ii, jj) >= min_similarity
        keep_i, keep_j = np.concatenate([keep_i, ii[alike]]), np.concatenate([keep_j, jj[alike]])
        if len(keep_i) > 2 * n:  # fold into a forest: at most n - 1 links
            keep_i, keep_j = _forest(hashes, keep_i, keep_j)
    if len(keep_i):
        keep_i, keep_j = _forest(hashes, keep_i, keep_j)
    return keep_i, keep_j


def _forest(hashes: np.ndarray, ii: np.ndarray, jj: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The links ``(ii, jj)`` reduced to a spanning forest, closest hashes first."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import minimum_spanning_tree

    n = len(hashes)
    weight = np.bitwise_count(hashes[ii] ^ hashes[jj]).astype(np.float64) + 1.0  # 0: no edge
    tree = minimum_spanning_tree(coo_matrix((weight, (ii, jj)), shape=(n, n)).tocsr()).tocoo()
    lo, hi = np.minimum(tree.row, tree.col), np.maximum(tree.row, tree.col)
    return lo.astype(np.int64), hi.astype(np.int64)


def _near_groups(
    probes: Sequence[Probe],
    reps: list[int],
    max_distance: int,
    min_similarity: float,
    entry: Callable[[Probe], dict[str, str]],
) -> list[dict[str, Any]]:
    """Pictures joined by confirmed near-duplicate links, one group each, with the links
    (``pairs``: a spanning tree, each with its hash distance and similarity)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if len(reps) < 2:
        return []
    hashes = np.array([probes[i].phash for i in reps], np.uint64)
    thumbs = np.stack([np.ravel(probes[i].thumb) for i in reps])  # type: ignore[arg-type]
    mean, std = thumb_stats(thumbs)
    ei, ej = _near_edges(hashes, thumbs, (mean, std), max_distance, min_similarity)
    if not len(ei):
        return []
    n = len(reps)
    _, label = connected_components(
        coo_matrix((np.ones(len(ei)), (ei, ej)), shape=(n, n)), directed=False
    )
    dist = np.bitwise_count(hashes[ei] ^ hashes[ej])
    alike = pair_similarities(thumbs, mean, std, ei, ej)
    links: dict[int, list[int]] = defaultdict(list)
    for k, group in enumerate(label[ei]):
        links[int(group)].append(k)
    out = []
    for ks in sorted(links.values(), key=lambda ks: int(min(ei[ks].min(), ej[ks].min()))):
        members = sorted({reps[int(v)] for k in ks for v in (ei[k], ej[k])})
        pairs = [
            {"files": [probes[reps[int(ei[k])]].path, probes[reps[int(ej[k])]].path],
             "distance": int(dist[k]), "similarity": round(float(alike[k]), 4)}
            for k in ks
        ]  # fmt: skip
        out.append({
            "where": _where(probes, members),
            "distance": max(p["distance"] for p in pairs),
            "similarity": min(p["similarity"] for p in pairs),
            "files": [entry(probes[i]) for i in members],
            "pairs": pairs,
        })  # fmt: skip
    return out


def _where(probes: Sequence[Probe], members: Sequence[int]) -> str:
    splits = {probes[i].split for i in members}
    if len(splits) > 1 and "train" in splits:
        return "across splits"
    labels = {probes[i].label for i in members}
    return "across classes" if len(labels) > 1 else "within a class"


def _outliers(probes: Sequence[Probe], ok: list[int]) -> list[dict[str, Any]]:
    if not ok:
        return []
    areas = np.array([probes[i].width * probes[i].height for i in ok], np.float64)
    median = float(np.median(areas))
    out = []
    for i, area in zip(ok, areas, strict=True):
        p = probes[i]
        why = []
        if min(p.width, p.height) < TINY_SIDE:
            why.append(f"tiny ({p.width}x{p.height})")
        aspect = max(p.width, p.height) / max(1, min(p.width, p.height))
        if aspect >= EXTREME_ASPECT:
            why.append(f"extreme aspect ratio ({aspect:.1f}:1)")
        if median and (area > FAR_SIZE * median or area * FAR_SIZE < median):
            why.append(f"size far from the others ({p.width}x{p.height}, median area "
                       f"{median:,.0f} px)")  # fmt: skip
        if p.blank:
            why.append("mostly blank")
        if why:
            out.append({"path": p.path, "split": p.split, "reasons": why})
    return out


def diagnose(
    source: str | Path,
    *,
    max_distance: int = MAX_DISTANCE,
    min_similarity: float = MIN_SIMILARITY,
    workers: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """The doctor's report on an image folder (JSON-ready); ``probes`` kept for ``--fix``."""
    imagehash = _phash_module()
    scan = scan_folder(source)
    items = [(p, label, split) for split, fs in scan.files.items() for p, label in fs]
    probes: list[Probe] = [None] * len(items)  # type: ignore[list-item]
    with ThreadPoolExecutor(max_workers=workers or default_threads()) as pool:
        for n, (i, probe) in enumerate(
            zip(range(len(items)), pool.map(lambda it: _probe(it, imagehash), items,
                                             chunksize=16), strict=True),
            start=1,
        ):  # fmt: skip
            probes[i] = probe
            if on_progress and (n % 256 == 0 or n == len(items)):
                on_progress(n, len(items))
    return _report(scan, probes, max_distance, min_similarity)


def _report(
    scan: FolderScan, probes: list[Probe], max_distance: int, min_similarity: float
) -> dict[str, Any]:
    names = scan.class_names
    ok = [i for i, p in enumerate(probes) if not p.reason]
    exact = _groups({i: probes[i].digest for i in ok})
    in_exact = {i: g[0] for g in exact for i in g}

    def entry(p: Probe) -> dict[str, str]:
        return {"path": p.path, "split": p.split, "class": names[p.label]}

    exact_out = [
        {"where": _where(probes, g), "files": [entry(probes[i]) for i in g]} for g in exact
    ]
    # near duplicates between different bytes: one member of each exact group stands for it
    reps = [i for i in ok if in_exact.get(i, i) == i]
    near_out = _near_groups(probes, reps, max_distance, min_similarity, entry)
    splits: dict[str, Any] = {}
    for split in scan.files:
        counts = dict.fromkeys(names, 0)
        for i in ok:
            if probes[i].split == split:
                counts[names[probes[i].label]] += 1
        splits[split] = {"classes": counts, "images": sum(counts.values())}
    train = splits["train"]["classes"]
    top, low = max(train.values()), min(train.values())
    where = [g["where"] for g in exact_out + near_out]
    summary = {
        "exact_duplicates": sum(len(g["files"]) - 1 for g in exact_out),
        "near_duplicates": sum(len(g["files"]) - 1 for g in near_out),
        "leaked": where.count("across splits"),
        "conflicting_labels": where.count("across classes"),
    }
    report: dict[str, Any] = {
        "source": str(scan.root),
        "layout": scan.layout,
        "class_names": names,
        "images": len(ok),
        "splits": splits,
        "summary": summary,
        "exact_duplicates": exact_out,
        "near_duplicates": near_out,
        "max_distance": max_distance,
        "min_similarity": min_similarity,
        "imbalance": {
            "ratio": (top / low) if low else None,
            "class_weights": class_weights(train),
        },
        "outliers": _outliers(probes, ok),
        "unreadable": [{"path": p.path, "reason": p.reason} for p in probes if p.reason],
        "notes": [],
    }
    if scan.layout == "classes":
        report["notes"].append(
            "one folder per class: training splits it by --val-split, so any duplicate here "
            "can land in both train and val; `cnntui data doctor --fix DIR` removes them"
        )
    report["_probes"] = probes
    return report


_RANK = {"train": 0, "val": 1, "test": 2}


def _kept_first(files: list[dict[str, str]]) -> list[dict[str, str]]:
    """The copy to keep first: the train copy, then the shortest name ("x.jpg" over
    "x (1).jpg")."""
    return sorted(files, key=lambda f: (_RANK.get(f["split"], 3), len(f["path"]), f["path"]))


def removals(report: dict[str, Any]) -> dict[str, str]:
    """Files ``--fix`` leaves out, with why: every exact copy but one (the train copy, else
    the shortest name), the val/test copies of pictures also in train (exact or near), all
    copies (exact or near) of a picture filed under two classes, and unreadable files."""
    out: dict[str, str] = {u["path"]: f"unreadable: {u['reason']}" for u in report["unreadable"]}
    for group in report["exact_duplicates"]:
        files = _kept_first(group["files"])
        if group["where"] == "across classes" and len({f["class"] for f in files}) > 1:
            for f in files:
                out.setdefault(f["path"], "same bytes filed under two classes")
            continue
        for f in files[1:]:
            what = "leaked copy" if f["split"] != files[0]["split"] else "exact duplicate"
            out.setdefault(f["path"], f"{what} of {files[0]['path']}")
    for group in report["near_duplicates"]:
        for path, why in _near_removals(group).items():
            out.setdefault(path, why)
    return out


def _near_removals(group: dict[str, Any]) -> dict[str, str]:
    """A near-duplicate group's val/test copies when it reaches into train, all of its copies
    when it spans classes, else nothing."""
    files = _kept_first(group["files"])
    if group["where"] == "across splits":
        first = files[0]["path"]
        return {
            f["path"]: f"leaked near copy of {first}" for f in files[1:] if f["split"] != "train"
        }
    if group["where"] != "across classes":
        return {}
    out = {}
    for f in files:
        other = next(g for g in files if g["class"] != f["class"])
        out[f["path"]] = f"near copy of {other['path']} filed under another class"
    return out


def fix(report: dict[str, Any], dst: str | Path, *, copy: bool = False) -> dict[str, Any]:
    """Write the source without :func:`removals` into ``dst`` (hard links, same layout)."""
    root = Path(report["source"])
    out = check_destination(dst, root)
    gone = removals(report)
    kept = [p.path for p in report["_probes"] if p.path not in gone]
    pairs = [(p, str(Path(p).relative_to(root))) for p in kept]
    dirs = [str(Path(p.path).parent.relative_to(root)) for p in report["_probes"]]
    how = write_linked(out, pairs, copy=copy, dirs=sorted(set(dirs)))
    return {
        "destination": str(out), "how": how, "kept": len(kept),
        "left_out": [{"path": p, "reason": r} for p, r in sorted(gone.items())],
    }  # fmt: skip


def json_ready(report: dict[str, Any]) -> dict[str, Any]:
    """``report`` without the per-file probes."""
    return {k: v for k, v in report.items() if not k.startswith("_")}
