#!/usr/bin/env python3
"""Builds indexer/data/words.txt, the English words that OCR lines are split into when the
recogniser runs words together ("Quarterlybudgetreview" -> "quarterly budget review").

Words: the whole-word entries of the MiniLM WordPiece vocabulary (common words, with their
plurals and inflections) plus WordNet 3.0 lemmas of five letters or more (Debian's
wordnet-base; longer, rarer words such as "segmentation"). Reproduce with:
    apt-get install wordnet-base
    python3 scripts/make-wordlist.py ../shared/models/text/tokenizer.json /usr/share/wordnet \
        > indexer/data/words.txt
"""
import json
import re
import sys

vocab = json.load(open(sys.argv[1]))["model"]["vocab"]
words = {t for t in vocab if re.fullmatch(r"[a-z]{2,}", t)} | {"a", "i"}
for pos in ("noun", "verb", "adj", "adv"):
    for line in open(f"{sys.argv[2]}/index.{pos}", encoding="latin-1"):
        lemma = line.split(" ", 1)[0]
        if not line.startswith(" ") and re.fullmatch(r"[a-z]{5,}", lemma):
            words.add(lemma)
print("\n".join(sorted(words)))
