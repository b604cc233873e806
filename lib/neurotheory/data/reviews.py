"""Sentiment data: the IMDB Large Movie Review Dataset v1.0, and a synthetic stand-in.

``imdb()`` downloads the official archive (Maas et al. 2011, 25,000 training and 25,000
test reviews, half positive), checks its SHA-256, reads the reviews straight from the
archive (nothing is extracted to disk), tokenizes them (lower case, ``<br />`` removed,
words and apostrophes), keeps the ``vocab_size`` most frequent training words and truncates
each review to its first ``max_length`` tokens. The encoded arrays are cached as ``.npz``.

``synthetic_sentiment()`` makes a corpus with the same interface and known ground truth:
words with graded valence (±1, ±2, ±3), neutral words with Zipf-like frequencies,
variable lengths, and two order-dependent phrases, "not w" (flips w's valence) and
"very w" (doubles it). A review is positive when its total valence is positive.

Token id 0 is padding (reviews are right-padded), id 1 is ``<unk>``.
"""

from __future__ import annotations

import re
import tarfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neurotheory import checks, runtime
from neurotheory.data.files import cache_dir, fetch, sha256_of, verify

URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
SHA256 = "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"
FILENAME = "aclImdb_v1.tar.gz"
PAD, UNK = 0, 1
SPECIALS = ("<pad>", "<unk>")

_MEMBER = re.compile(r"^aclImdb/(train|test)/(pos|neg)/(\d+)_(\d+)\.txt$")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


@dataclass(frozen=True)
class Reviews:
    """Encoded reviews: ``tokens`` (N, T) int32 right-padded with 0, ``labels`` (N,) 1 = positive."""

    tokens: np.ndarray
    labels: np.ndarray

    def __post_init__(self):
        if self.tokens.ndim != 2 or self.labels.shape != self.tokens.shape[:1]:
            raise ValueError(f"tokens (N, T) and labels (N,) disagree: {self.tokens.shape}, {self.labels.shape}")

    def __len__(self) -> int:
        return self.tokens.shape[0]

    @property
    def lengths(self) -> np.ndarray:
        """Number of words in each review."""
        return (self.tokens != PAD).sum(axis=1)


@dataclass(frozen=True)
class SentimentData:
    """A train/test split, its vocabulary (id → word) and where it came from.

    ``valence`` (per word id) is the ground truth of the synthetic corpus; ``None`` for IMDB.
    """

    train: Reviews
    test: Reviews
    vocabulary: tuple[str, ...]
    source: str
    valence: np.ndarray | None = None
    _index: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "_index", {w: i for i, w in enumerate(self.vocabulary)})

    def encode(self, text: str) -> np.ndarray:
        """Token ids of a text, tokenized as the corpus was (unknown words → ``<unk>``)."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a string, got {type(text).__name__}")
        return np.asarray([self._index.get(w, UNK) for w in tokenize(text)], dtype=np.int32)

    def decode(self, ids) -> list[str]:
        """Words for token ids, padding dropped."""
        return [self.vocabulary[i] for i in np.asarray(ids).ravel() if i != PAD]


def tokenize(text: str) -> list[str]:
    """Lower-case words (with apostrophes) of a review; HTML line breaks removed."""
    return _WORD.findall(text.replace("<br />", " ").lower())


def pad(sequences: list, max_length: int) -> np.ndarray:
    """Right-pad (and truncate) id sequences to ``max_length``: an int32 array (N, max_length)."""
    out = np.zeros((len(sequences), max_length), dtype=np.int32)
    for row, ids in zip(out, sequences):
        ids = ids[:max_length]
        row[:len(ids)] = ids
    return out


def _read_archive(path: Path) -> dict[str, list[tuple[int, list[str]]]]:
    """(label, words) for every review in the official layout, by split, in a fixed order."""
    found: dict[str, list[tuple[tuple, int, list[str]]]] = {"train": [], "test": []}
    with tarfile.open(path) as tar:
        for member in runtime.progress(tar, desc="reading IMDB reviews"):
            match = _MEMBER.match(member.name)
            if not (member.isfile() and match):
                continue
            split, polarity, number, _rating = match.groups()
            text = tar.extractfile(member).read().decode("utf-8")
            found[split].append(((polarity, int(number)), int(polarity == "pos"), tokenize(text)))
    for split, rows in found.items():
        if not rows:
            raise ValueError(f"{path.name} has no reviews under aclImdb/{split}/(pos|neg)/")
    return {split: [(label, words) for _, label, words in sorted(rows, key=lambda r: r[0])]
            for split, rows in found.items()}


def imdb(*, vocab_size: int = 20_000, max_length: int = 400, archive: str | Path | None = None,
         sha256: str = SHA256) -> SentimentData:
    """The IMDB Large Movie Review Dataset v1.0, tokenized and encoded.

    Downloads ``aclImdb_v1.tar.gz`` into the cache on first use (raising
    :class:`~neurotheory.data.DataUnavailable` without network), or reads a local
    ``archive`` with checksum ``sha256``. The vocabulary is ``<pad>``, ``<unk>`` and the
    ``vocab_size − 2`` most frequent training words (ties alphabetical); each review keeps
    its first ``max_length`` tokens.
    """
    vocab_size = checks.integer("vocab_size", vocab_size, 3)
    max_length = checks.integer("max_length", max_length)
    path = fetch(URL, sha256, FILENAME) if archive is None else verify(archive, sha256)
    cached = cache_dir() / f"imdb-{sha256[:12]}-v{vocab_size}-t{max_length}.npz"
    if cached.is_file():
        with np.load(cached, allow_pickle=False) as f:
            vocabulary = tuple(str(w) for w in f["vocabulary"])
            return SentimentData(Reviews(f["train_tokens"], f["train_labels"]),
                                 Reviews(f["test_tokens"], f["test_labels"]), vocabulary, _IMDB_SOURCE)
    reviews = _read_archive(path)
    counts = Counter(w for _, words in reviews["train"] for w in words)
    frequent = sorted(counts, key=lambda w: (-counts[w], w))[:vocab_size - len(SPECIALS)]
    vocabulary = SPECIALS + tuple(frequent)
    index = {w: i for i, w in enumerate(vocabulary)}
    splits = {}
    for split, rows in reviews.items():
        tokens = pad([[index.get(w, UNK) for w in words] for _, words in rows], max_length)
        splits[split] = Reviews(tokens, np.asarray([label for label, _ in rows], dtype=np.int32))
    tmp = cached.with_name(f".{cached.stem}.{sha256_of(path)[:8]}.tmp.npz")
    np.savez_compressed(tmp, train_tokens=splits["train"].tokens, train_labels=splits["train"].labels,
                        test_tokens=splits["test"].tokens, test_labels=splits["test"].labels,
                        vocabulary=np.asarray(vocabulary))
    tmp.replace(cached)
    return SentimentData(splits["train"], splits["test"], vocabulary, _IMDB_SOURCE)


_IMDB_SOURCE = "IMDB Large Movie Review Dataset v1.0 (Maas et al. 2011)"
SYNTHETIC_SOURCE = "synthetic stand-in for IMDB (not real reviews)"

# Sentiment words by valence; milder words are more frequent.
LEXICON = {
    3: ("excellent", "superb", "masterpiece", "brilliant", "wonderful"),
    2: ("great", "beautiful", "enjoyable", "loved", "fun"),
    1: ("good", "nice", "decent", "fine", "solid"),
    -1: ("weak", "mediocre", "forgettable", "bland", "predictable"),
    -2: ("bad", "boring", "poor", "dull", "stupid"),
    -3: ("awful", "terrible", "worst", "horrible", "waste"),
}
NEGATION, INTENSIFIER = "not", "very"
NEUTRAL = ("the", "a", "and", "of", "to", "is", "it", "in", "this", "that", "i", "was", "as", "with",
           "for", "but", "film", "movie", "on", "his", "he", "one", "are", "you", "be", "all", "at",
           "an", "they", "by", "who", "so", "from", "like", "her", "just", "about", "out", "has",
           "story", "what", "some", "there", "more", "when", "plot", "time", "characters", "scene",
           "actors", "director", "ending", "music", "script", "cast", "watch", "saw", "seen",
           "role", "character", "series", "book", "people", "scenes", "show", "years", "life")


def _lexicon(vocab_size: int) -> tuple[tuple[str, ...], np.ndarray]:
    """Vocabulary (specials, modifiers, sentiment words, neutral words, filler ``w<k>``) and
    the valence of each word."""
    sentiment = [(w, v) for v, words in LEXICON.items() for w in words]
    fixed = list(SPECIALS) + [NEGATION, INTENSIFIER] + [w for w, _ in sentiment] + list(NEUTRAL)
    if vocab_size < len(fixed):
        raise ValueError(f"vocab_size must be at least {len(fixed)} for the synthetic lexicon, got {vocab_size}")
    vocabulary = tuple(fixed + [f"w{k}" for k in range(vocab_size - len(fixed))])
    valence = np.zeros(vocab_size)
    valence[len(SPECIALS) + 2:len(SPECIALS) + 2 + len(sentiment)] = [v for _, v in sentiment]
    return vocabulary, valence


def _scores(tokens: np.ndarray, valence: np.ndarray, negation: int, intensifier: int) -> np.ndarray:
    """Total valence of each review; "not w" counts −v(w) and "very w" counts 2 v(w)."""
    v = valence[tokens]
    before = np.pad(tokens[:, :-1], ((0, 0), (1, 0)))
    factor = np.where(before == negation, -1.0, np.where(before == intensifier, 2.0, 1.0))
    return (v * factor).sum(axis=1)


def synthetic_sentiment(*, n_train: int = 5000, n_test: int = 1000, vocab_size: int = 1000,
                        min_length: int = 20, max_length: int = 100, sentiment_rate: float = 0.2,
                        agreement: float = 0.75, phrase_rate: float = 0.03, seed: int = 0) -> SentimentData:
    """A synthetic review corpus with known word valences, standing in for IMDB offline.

    Each review has a hidden leaning ±1 and a length uniform in [min_length, max_length].
    Each word is a sentiment word with probability ``sentiment_rate`` (its sign agreeing
    with the leaning with probability ``agreement``; valence ±1 three times as frequent as
    ±3), otherwise a neutral word drawn from a Zipf law p(rank) ∝ 1/(rank + 2.7). A sentiment
    word is preceded by "not" or "very" with probability ``phrase_rate`` each. The label is
    the sign of the total valence (:func:`_scores`); ties are redrawn.
    """
    n_train = checks.integer("n_train", n_train)
    n_test = checks.integer("n_test", n_test)
    min_length = checks.integer("min_length", min_length, 2)
    max_length = checks.integer("max_length", max_length)
    if max_length < min_length:
        raise ValueError(f"max_length ({max_length}) must be at least min_length ({min_length})")
    for name, p in (("sentiment_rate", sentiment_rate), ("agreement", agreement), ("phrase_rate", phrase_rate)):
        if not 0 <= p <= 1:
            raise ValueError(f"{name} must be a probability in [0, 1], got {p}")
    if phrase_rate > 0.5:
        raise ValueError(f"phrase_rate must be at most 0.5 (two phrases share it), got {phrase_rate}")
    vocabulary, valence = _lexicon(checks.integer("vocab_size", vocab_size))
    rng = runtime.rng(seed)
    negation, intensifier = vocabulary.index(NEGATION), vocabulary.index(INTENSIFIER)
    sentiment_ids = np.flatnonzero(valence)
    neutral_ids = np.flatnonzero(valence == 0)[len(SPECIALS) + 2:]
    neutral_p = 1.0 / (np.arange(neutral_ids.size) + 2.7)
    neutral_p /= neutral_p.sum()
    magnitude_p = 1.0 / np.abs(valence[sentiment_ids])

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        leaning = rng.choice([-1.0, 1.0], size=n)
        lengths = rng.integers(min_length, max_length + 1, size=n)
        tokens = rng.choice(neutral_ids, p=neutral_p, size=(n, max_length))
        is_sentiment = rng.random((n, max_length)) < sentiment_rate
        sign = np.where(rng.random((n, max_length)) < agreement, leaning[:, None], -leaning[:, None])
        words = np.empty((n, max_length), dtype=int)
        for s in (-1.0, 1.0):
            ids = sentiment_ids[np.sign(valence[sentiment_ids]) == s]
            p = magnitude_p[np.sign(valence[sentiment_ids]) == s]
            words[sign == s] = rng.choice(ids, p=p / p.sum(), size=int((sign == s).sum()))
        tokens = np.where(is_sentiment, words, tokens)
        phrase = rng.random((n, max_length))
        starts = is_sentiment[:, 1:] & (phrase[:, 1:] < 2 * phrase_rate)
        modifier = np.where(phrase[:, 1:] < phrase_rate, negation, intensifier)
        tokens[:, :-1] = np.where(starts, modifier, tokens[:, :-1])
        tokens = np.where(np.arange(max_length) < lengths[:, None], tokens, PAD).astype(np.int32)
        return tokens, _scores(tokens, valence, negation, intensifier)

    def split(n: int) -> Reviews:
        tokens, scores = draw(n)
        while (scores == 0).any():
            redrawn, rescored = draw(int((scores == 0).sum()))
            tokens[scores == 0], scores[scores == 0] = redrawn, rescored
        return Reviews(tokens, (scores > 0).astype(np.int32))

    return SentimentData(split(n_train), split(n_test), vocabulary, SYNTHETIC_SOURCE, valence)
