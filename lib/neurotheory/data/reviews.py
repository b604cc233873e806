"""Sentiment data: the IMDB Large Movie Review Dataset v1.0, and a synthetic stand-in.

``imdb()`` downloads the official archive (Maas et al. 2011, 25,000 training and 25,000
test reviews, half positive), checks its SHA-256, reads the reviews straight from the
archive (nothing is extracted to disk), tokenizes them (lower case, ``<br />`` removed,
words and apostrophes), keeps the ``vocab_size`` most frequent training words and truncates
each review to its first ``max_length`` tokens. Each split comes back in a seeded shuffled
order (never sorted by label). The encoded arrays are cached as ``.npz``.

``synthetic_sentiment()`` makes a corpus with the same interface and known ground truth,
IMDB-like in length and difficulty. Each review has a hidden leaning ±1 and a length
uniform in [``min_length``, ``max_length``] (default 50–400 words). Each word is, with
probability ``sentiment_rate`` (default 0.09), one of 30 sentiment words of valence ±1, ±2
or ±3 (magnitude k drawn with probability ∝ 1/k), otherwise a neutral word with Zipf-like
frequencies. A sentiment word expresses the leaning with probability ``agreement``, the
opposite otherwise; after a neutral word it is phrased, with probability ``phrase_rate``
each, as "not w" with w of the opposite valence ("not bad" expressing praise) or as
"very w" (counting double), the modifier taking the neutral word's place. The label is the
sign of the phrase-aware total valence

    s = Σ_t f_t v(x_t),   f_t = −1 after "not", 2 after "very", 1 otherwise,

(reviews with s = 0 are redrawn at the same length), then flipped with probability
``label_noise``: no classifier can beat about 1 − ``label_noise``, and the plain count of
valences that ignores word order (:meth:`SentimentData.valence_count`) falls clearly short.

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

    def valence_count(self, tokens) -> np.ndarray:
        """The bag-of-valences baseline: Σ_t v(x_t), the plain sum of the true word valences of
        each review (last axis of ``tokens``), ignoring "not" and "very"; padding counts 0.

        Its sign is the order-blind reading that the phrases defeat. Synthetic corpus only
        (IMDB has no ground-truth valences).
        """
        return self.valence[self._ids("valence_count", tokens)].sum(axis=-1)

    def phrase_score(self, tokens) -> np.ndarray:
        """The phrase-aware total valence Σ_t f_t v(x_t) (f_t = −1 after "not", 2 after "very",
        1 otherwise) of each review, shape ``tokens.shape[:-1]``: its sign is the clean label,
        before label noise. Synthetic corpus only."""
        tokens = self._ids("phrase_score", tokens)
        scores = _scores(tokens.reshape(-1, tokens.shape[-1]), self.valence,
                         self._index[NEGATION], self._index[INTENSIFIER])
        return scores.reshape(tokens.shape[:-1])

    def _ids(self, name: str, tokens) -> np.ndarray:
        if self.valence is None:
            raise ValueError(f"{name} needs ground-truth word valences, which {self.source} has not")
        tokens = np.asarray(tokens)
        if not np.issubdtype(tokens.dtype, np.integer):
            raise TypeError(f"tokens must be integer token ids, got dtype {tokens.dtype}")
        if tokens.size and (tokens.min() < 0 or tokens.max() >= len(self.vocabulary)):
            raise ValueError(f"tokens must be ids in [0, {len(self.vocabulary)}), "
                             f"got values in [{tokens.min()}, {tokens.max()}]")
        return tokens


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


def _read_archive(path: Path, seed: int) -> dict[str, list[tuple[int, list[str]]]]:
    """(label, words) for every review in the official layout, by split, in a seeded shuffled
    order: sorted by (polarity, review number), then permuted by ``runtime.rng(seed)``
    (training split first, then test)."""
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
    rng = runtime.rng(seed)
    shuffled = {}
    for split, rows in found.items():
        rows.sort(key=lambda r: r[0])
        shuffled[split] = [rows[i][1:] for i in rng.permutation(len(rows))]
    return shuffled


def imdb(*, vocab_size: int = 20_000, max_length: int = 400, archive: str | Path | None = None,
         sha256: str = SHA256, seed: int = 0) -> SentimentData:
    """The IMDB Large Movie Review Dataset v1.0, tokenized and encoded.

    Downloads ``aclImdb_v1.tar.gz`` into the cache on first use (raising
    :class:`~neurotheory.data.DataUnavailable` without network), or reads a local
    ``archive`` with checksum ``sha256``. The vocabulary is ``<pad>``, ``<unk>`` and the
    ``vocab_size − 2`` most frequent training words (ties alphabetical); each review keeps
    its first ``max_length`` tokens. Each split is in a seeded shuffled order (reviews sorted
    by polarity and review number, then a fixed permutation from ``runtime.rng(seed)``), so
    any prefix of a split mixes both labels and the same ``seed`` always gives the same order.
    """
    vocab_size = checks.integer("vocab_size", vocab_size, 3)
    max_length = checks.integer("max_length", max_length)
    seed = checks.integer("seed", seed, 0)
    path = fetch(URL, sha256, FILENAME) if archive is None else verify(archive, sha256)
    cached = cache_dir() / f"imdb-{sha256[:12]}-v{vocab_size}-t{max_length}-s{seed}.npz"
    if cached.is_file():
        with np.load(cached, allow_pickle=False) as f:
            vocabulary = tuple(str(w) for w in f["vocabulary"])
            return SentimentData(Reviews(f["train_tokens"], f["train_labels"]),
                                 Reviews(f["test_tokens"], f["test_labels"]), vocabulary, _IMDB_SOURCE)
    reviews = _read_archive(path, seed)
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
                        min_length: int = 50, max_length: int = 400, sentiment_rate: float = 0.09,
                        agreement: float = 0.75, phrase_rate: float = 0.2, label_noise: float = 0.05,
                        seed: int = 0) -> SentimentData:
    """A synthetic review corpus with known word valences, standing in for IMDB offline.

    Each review has a hidden leaning ℓ = ±1 and a length uniform in [min_length, max_length].
    Each word is a sentiment word with probability ``sentiment_rate``, otherwise a neutral
    word drawn from a Zipf law p(rank) ∝ 1/(rank + 2.7). A sentiment word's intended sign is
    ℓ with probability ``agreement`` and −ℓ otherwise; if it follows a neutral word it is
    phrased as "not w" (w of the opposite sign) with probability ``phrase_rate``, as
    "very w" (w of the intended sign) with probability ``phrase_rate``, and as w otherwise,
    the modifier replacing the neutral word. w is drawn among the words of the sign so
    chosen, magnitude |v| = 1, 2, 3 in proportion 1/|v|. The clean label is the sign of the
    phrase-aware total valence s = Σ_t f_t v(x_t), f_t = −1 after "not", 2 after "very" and 1
    otherwise (:func:`_scores`; reviews with s = 0 are redrawn at the same length); each
    label is then flipped independently with probability ``label_noise``, so about
    1 − ``label_noise`` is the best accuracy any classifier can reach.
    """
    n_train = checks.integer("n_train", n_train)
    n_test = checks.integer("n_test", n_test)
    min_length = checks.integer("min_length", min_length, 2)
    max_length = checks.integer("max_length", max_length)
    if max_length < min_length:
        raise ValueError(f"max_length ({max_length}) must be at least min_length ({min_length})")
    for name, p in (("sentiment_rate", sentiment_rate), ("agreement", agreement), ("phrase_rate", phrase_rate),
                    ("label_noise", label_noise)):
        if checks.number(name, p, allow_zero=True) > 1:
            raise ValueError(f"{name} must be a probability in [0, 1], got {p}")
    if sentiment_rate == 0:
        raise ValueError("sentiment_rate must be positive (a review needs sentiment words to have a label)")
    if phrase_rate > 0.5:
        raise ValueError(f"phrase_rate must be at most 0.5 (two phrases share it), got {phrase_rate}")
    if label_noise > 0.5:
        raise ValueError(f"label_noise must be at most 0.5 (more would invert the labels), got {label_noise}")
    vocabulary, valence = _lexicon(checks.integer("vocab_size", vocab_size))
    rng = runtime.rng(seed)
    negation, intensifier = vocabulary.index(NEGATION), vocabulary.index(INTENSIFIER)
    neutral_ids = np.flatnonzero(valence == 0)[len(SPECIALS) + 2:]
    neutral_p = 1.0 / (np.arange(neutral_ids.size) + 2.7)
    neutral_p /= neutral_p.sum()
    by_sign = {sign: np.flatnonzero(np.sign(valence) == sign) for sign in (-1, 1)}
    magnitude_p = {sign: (1 / np.abs(valence[ids])) / (1 / np.abs(valence[ids])).sum()
                   for sign, ids in by_sign.items()}

    def draw(lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = lengths.size
        inside = np.arange(max_length) < lengths[:, None]
        leaning = rng.choice([-1, 1], size=(n, 1))
        tokens = rng.choice(neutral_ids, p=neutral_p, size=(n, max_length))
        is_sentiment = inside & (rng.random((n, max_length)) < sentiment_rate)
        after_neutral = np.zeros_like(is_sentiment)
        after_neutral[:, 1:] = is_sentiment[:, 1:] & ~is_sentiment[:, :-1]
        phrase = rng.random((n, max_length))
        negated = after_neutral & (phrase < phrase_rate)
        intensified = after_neutral & (phrase >= phrase_rate) & (phrase < 2 * phrase_rate)
        intended = np.where(rng.random((n, max_length)) < agreement, leaning, -leaning)
        sign = np.where(negated, -intended, intended)[is_sentiment]
        words = np.empty(sign.size, dtype=np.int64)
        for s, ids in by_sign.items():
            words[sign == s] = rng.choice(ids, p=magnitude_p[s], size=int((sign == s).sum()))
        tokens[is_sentiment] = words
        tokens[:, :-1][negated[:, 1:]] = negation
        tokens[:, :-1][intensified[:, 1:]] = intensifier
        tokens = np.where(inside, tokens, PAD).astype(np.int32)
        return tokens, _scores(tokens, valence, negation, intensifier)

    def split(n: int) -> Reviews:
        lengths = rng.integers(min_length, max_length + 1, size=n)
        tokens, scores = draw(lengths)
        tied = scores == 0
        while tied.any():
            tokens[tied], scores[tied] = draw(lengths[tied])
            tied = scores == 0
        flipped = rng.random(n) < label_noise
        return Reviews(tokens, ((scores > 0) != flipped).astype(np.int32))

    return SentimentData(split(n_train), split(n_test), vocabulary, SYNTHETIC_SOURCE, valence)
