"""The router's classifier: naive Bayes over a domain's routing examples, and how good it is.

Trained when a domain's graph first routes (well under a millisecond a query after
that). `python -m nodes.route_classifier` (`make router`) retrains it on the shop's
examples and prints its cross-validated accuracy and how many queries the confidence
threshold lets it decide alone: run it after changing the examples.
"""

from __future__ import annotations

import argparse
import itertools
import math
import random
import re
import sys
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

from core.domain import Domain, Route

_WORD = re.compile(r"[a-z0-9]+(?:[.'-][a-z0-9]+)*")


def features(text: str) -> list[str]:
    """Return the words and word pairs of a text, plus shape markers (URL, number)."""
    lowered = text.lower()
    words = _WORD.findall(lowered)
    marks = ["<url>"] if "http://" in lowered or "https://" in lowered else []
    marks += ["<num>"] if any(w[0].isdigit() for w in words) else []
    return words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)] + marks


class RouteClassifier:
    """Multinomial naive Bayes over words and word pairs, with add-one smoothing."""

    def __init__(self, examples: Sequence[tuple[Route, str]]) -> None:
        """Count features per route.

        Raises:
            ValueError: unless both routes have examples.
        """
        docs: Counter[str] = Counter(label for label, _ in examples)
        if docs["direct"] == 0 or docs["tools"] == 0:
            raise ValueError("routing needs examples of both routes, direct and tools")
        self.counts: dict[str, Counter[str]] = {"direct": Counter(), "tools": Counter()}
        for label, text in examples:
            self.counts[label].update(features(text))
        self.log_prior = {r: math.log(docs[r] / len(examples)) for r in self.counts}
        self.vocab = set().union(*self.counts.values())
        self.totals = {r: sum(c.values()) for r, c in self.counts.items()}

    def predict(self, text: str) -> tuple[Route, float]:
        """Return the likelier route and its posterior probability."""
        known = [f for f in features(text) if f in self.vocab]
        scores = {
            route: self.log_prior[route]
            + sum(math.log((counts[f] + 1) / (self.totals[route] + len(self.vocab))) for f in known)
            for route, counts in self.counts.items()
        }
        best: Route = max(scores, key=lambda r: scores[r])  # type: ignore[arg-type]
        total = sum(math.exp(s - scores[best]) for s in scores.values())
        return best, 1.0 / total


@lru_cache(maxsize=16)
def classifier_for(domain: Domain) -> RouteClassifier:
    """Return the classifier trained on a domain's routing examples (trained once)."""
    return RouteClassifier(domain.route_examples)


def cross_validate(
    examples: Sequence[tuple[Route, str]],
    threshold: float,
    folds: int = 5,
    seed: int = 0,
    train_size: int | None = None,
) -> dict[str, float]:
    """Return k-fold accuracy, the share the classifier decides alone, and its accuracy there.

    With `train_size`, each fold trains on only that many of the other folds' examples,
    the routes taking turns: how the router does with fewer examples than it has.
    """
    shuffled = list(examples)
    random.Random(seed).shuffle(shuffled)
    right = confident = confident_right = 0
    for fold in range(folds):
        test = shuffled[fold::folds]
        train = [e for i, e in enumerate(shuffled) if i % folds != fold]
        if train_size is not None:
            by_route = [[e for e in train if e[0] == route] for route in ("direct", "tools")]
            turns = itertools.zip_longest(*by_route)
            train = [e for pair in turns for e in pair if e is not None][:train_size]
        model = RouteClassifier(train)
        for label, text in test:
            route, p = model.predict(text)
            right += route == label
            if p >= threshold:
                confident += 1
                confident_right += route == label
    n = len(shuffled)
    return {
        "accuracy": right / n,
        "coverage": confident / n,
        "confident_accuracy": confident_right / confident if confident else float("nan"),
    }


def main(argv: list[str] | None = None) -> int:
    """Print the served domain's router accuracy (cross-validated) at a few thresholds."""
    from core.context import Context
    from deploy.served import served_domain

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument(
        "--domain", help="module:NAME of a Domain (default: AGENT_DOMAIN, the shop)"
    )
    parser.add_argument(
        "--curve", action="store_true", help="also train on 10, 20, 40, 80... examples only"
    )
    args = parser.parse_args(argv)
    domain = served_domain(args.domain)
    examples = domain.route_examples
    print(f"{domain.name}:", end=" ")  # noqa: T201
    labels = Counter(label for label, _ in examples)
    print(f"{len(examples)} examples: {labels['direct']} direct, {labels['tools']} tools")  # noqa: T201
    configured = Context().router_confidence
    for threshold in sorted({0.6, 0.75, configured, 0.95}):
        s = cross_validate(examples, threshold, args.folds)
        mark = "  <- router_confidence" if threshold == configured else ""
        print(  # noqa: T201
            f"threshold {threshold:.2f}: accuracy {s['accuracy']:.1%}, decides alone "
            f"{s['coverage']:.1%} (right there {s['confident_accuracy']:.1%}){mark}"
        )
    if args.curve:  # fewer examples: mean over shuffles, at the configured threshold
        print("examples to train on (of the other folds'):")  # noqa: T201
        most = len(examples) * (args.folds - 1) // args.folds
        for size in [n for n in (10, 20, 40, 80, 160) if n < most] + [most]:
            runs = [
                cross_validate(examples, configured, args.folds, seed, size) for seed in range(10)
            ]
            accuracy = sum(r["accuracy"] for r in runs) / len(runs)
            alone = sum(r["coverage"] for r in runs) / len(runs)
            right = sum(r["confident_accuracy"] * r["coverage"] for r in runs) / len(runs)
            print(  # noqa: T201
                f"  {size:>3}: accuracy {accuracy:.1%}, decides alone {alone:.1%} "
                f"(right there {right / alone if alone else float('nan'):.1%})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
