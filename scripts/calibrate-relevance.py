#!/usr/bin/env python3
"""Fits the relevance curves of indexer/src/search.rs (TEXT_CURVE, SEMANTIC_CURVE) on the
tuning half of the real judged set, and shows what candidate curves do on either half.

    rm -f /tmp/evidence.jsonl
    VX_EVAL_DUMP=/tmp/evidence.jsonl cargo test -p vx-tests --test e2e -- holds_up_on_real
    scripts/calibrate-relevance.py /tmp/evidence.jsonl [CANDIDATE ...]

The dump holds each result's evidence: every channel's own score (text: the share of the
query's weight the file answers; semantic: cosine) with the relevance the build gave it. A
CANDIDATE is
TEXT_MID,TEXT_WIDTH,SEMANTIC_MID,SEMANTIC_WIDTH[,OVERLAP] (OVERLAP, default 1, is the power of
each doubt but the surest channel's: 1 multiplies them as independent, as vx does, 0 keeps
the surest channel alone): the script prints, per half, top-5 hits,
MRR when ranked by the fused relevance, absent queries answered confidently, and relevant
files found first that are confident (relevance 0.5 or more).
"""
import json
import math
import sys

CONFIDENT = 0.5


def logistic(x, mid, width):
    return 1.0 / (1.0 + math.exp(-(x - mid) / width))


def fit(points):
    """Maximum-likelihood logistic fit of (score, relevant) points: (mid, width)."""
    a = b = 0.0
    for _ in range(20000):
        ga = gb = 0.0
        for x, y in points:
            p = 1.0 / (1.0 + math.exp(-(a * x + b)))
            ga += (p - y) * x
            gb += p - y
        a -= 0.5 * ga / len(points)
        b -= 0.5 * gb / len(points)
    return -b / a, 1.0 / a


def judged(entry):
    return entry.split("@")[0]


def evaluate(rows, half, curves):
    text, semantic = curves[0:2], curves[2:4]
    overlap = curves[4] if len(curves) > 4 else 1.0
    found = mrr = present = confident_first = first_seen = 0
    absent = absent_confident = 0
    for q in (r for r in rows if r["half"] == half):
        relevant = {judged(r) for r in q["relevant"]}
        ranked = []
        for i, h in enumerate(q["results"]):
            ps = []
            if "text" in h["evidence"]:
                ps.append(logistic(h["evidence"]["text"]["score"], *text))
            if "semantic" in h["evidence"]:
                ps.append(logistic(h["evidence"]["semantic"]["score"], *semantic))
            ps.sort(reverse=True)
            doubt = 1 - ps[0]
            for p in ps[1:]:
                doubt *= (1 - p) ** overlap
            ranked.append((1 - doubt, -i, h["file"]))
        ranked.sort(reverse=True)
        if not relevant:
            absent += 1
            absent_confident += any(r >= CONFIDENT for r, _, _ in ranked)
            continue
        present += 1
        first = next((k for k, (_, _, f) in enumerate(ranked[:10]) if f in relevant), None)
        if first is not None:
            found += first < 5
            mrr += 1 / (first + 1)
            first_seen += 1
            confident_first += ranked[first][0] >= CONFIDENT
    return (f"{half}: top 5 {found}/{present}, MRR {mrr / present:.3f}, absent confident "
            f"{absent_confident}/{absent}, first relevant confident {confident_first}/{first_seen}")


def main():
    rows = [json.loads(line) for line in open(sys.argv[1])]
    for channel in ("text", "semantic"):
        points = [
            (h["evidence"][channel]["score"], h["file"] in {judged(r) for r in q["relevant"]})
            for q in rows if q["half"] == "tuning"
            for h in q["results"] if channel in h["evidence"]
        ]
        positives = sum(y for _, y in points)
        if positives:
            mid, width = fit(points)
            print(f"{channel}: {len(points)} points, {positives} relevant; "
                  f"fit mid {mid:.3f} width {width:.3f}")
    for candidate in sys.argv[2:]:
        curves = [float(v) for v in candidate.split(",")]
        print(candidate)
        for half in ("tuning", "held-out"):
            print("  " + evaluate(rows, half, curves))


if __name__ == "__main__":
    main()
