"""The IMDB loader on a small archive in the official layout, and the synthetic corpus."""

import io
import tarfile

import numpy as np
import pytest

from neurotheory import data
from neurotheory.data import reviews as imdb_module
from neurotheory.data.reviews import _scores, imdb, synthetic_sentiment, tokenize

REVIEWS = {
    "aclImdb/train/pos/0_9.txt": "A great film.<br /><br />Great acting, great story!",
    "aclImdb/train/pos/1_8.txt": "Loved it. Great fun",
    "aclImdb/train/neg/0_2.txt": "Awful film, awful acting; I didn't like it",
    "aclImdb/train/neg/1_1.txt": "Boring",
    "aclImdb/test/pos/0_10.txt": "great great film",
    "aclImdb/test/neg/0_3.txt": "An awful, unseen mess",
    "aclImdb/train/unsup/0_0.txt": "unlabelled reviews are skipped",
    "aclImdb/train/labeledBow.feat": "0:1 1:2",
    "aclImdb/imdb.vocab": "the\nand\n",
    "aclImdb/README": "Large Movie Review Dataset v1.0",
}


@pytest.fixture
def archive(tmp_path, monkeypatch):
    monkeypatch.setenv("NEUROTHEORY_DATA", str(tmp_path / "cache"))
    path = tmp_path / "aclImdb_v1.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, text in REVIEWS.items():
            payload = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return path


def test_parses_the_official_layout(archive):
    corpus = imdb(archive=archive, sha256=data.sha256_of(archive), vocab_size=8, max_length=6)
    # Training words by frequency: great 4; acting, awful, film, it 2; then a, ... (ties alphabetical).
    assert corpus.vocabulary == ("<pad>", "<unk>", "great", "acting", "awful", "film", "it", "a")
    assert len(corpus.train) == 4 and len(corpus.test) == 2
    # Sorted by polarity then review number: neg/0, neg/1, pos/0, pos/1.
    np.testing.assert_array_equal(corpus.train.labels, [0, 0, 1, 1])
    np.testing.assert_array_equal(corpus.test.labels, [0, 1])
    assert corpus.decode(corpus.train.tokens[2]) == ["a", "great", "film", "great", "acting", "great"]
    assert corpus.train.tokens.shape == (4, 6) and corpus.train.tokens.dtype == np.int32
    np.testing.assert_array_equal(corpus.train.lengths, [6, 1, 6, 4])
    assert corpus.decode(corpus.train.tokens[1]) == ["<unk>"]
    assert corpus.decode(corpus.test.tokens[0]) == ["<unk>", "awful", "<unk>", "<unk>"]
    assert "didn't" in tokenize("I didn't<br />LIKE it")
    assert "IMDB" in corpus.source and corpus.valence is None
    again = imdb(archive=archive, sha256=data.sha256_of(archive), vocab_size=8, max_length=6)
    np.testing.assert_array_equal(again.train.tokens, corpus.train.tokens)
    assert again.vocabulary == corpus.vocabulary


def test_checksum_and_missing_network(archive, monkeypatch):
    with pytest.raises(data.ChecksumMismatch):
        imdb(archive=archive, sha256="0" * 64)

    def offline(*_args, **_kwargs):
        raise data.DataUnavailable("no network")

    monkeypatch.setattr(imdb_module, "fetch", offline)
    with pytest.raises(data.DataUnavailable):
        imdb()
    with pytest.raises(ValueError, match="vocab_size"):
        imdb(archive=archive, vocab_size=2)
    with pytest.raises(TypeError, match="max_length"):
        imdb(archive=archive, max_length=1.5)


def test_synthetic_corpus_has_its_stated_ground_truth():
    corpus = synthetic_sentiment(n_train=3000, n_test=200, vocab_size=300, min_length=5,
                                      max_length=30, phrase_rate=0.05, seed=3)
    tokens, labels = corpus.train.tokens, corpus.train.labels
    assert tokens.shape == (3000, 30) and len(corpus.test) == 200
    lengths = corpus.train.lengths
    assert lengths.min() >= 5 and lengths.max() <= 30
    assert np.all(tokens[np.arange(30) >= lengths[:, None]] == 0)
    negation = corpus.vocabulary.index("not")
    intensifier = corpus.vocabulary.index("very")
    scores = _scores(tokens, corpus.valence, negation, intensifier)
    np.testing.assert_array_equal(labels, scores > 0)
    assert np.all(scores != 0)
    assert 0.4 < labels.mean() < 0.6
    assert corpus.valence[corpus.vocabulary.index("excellent")] == 3
    assert corpus.valence[corpus.vocabulary.index("awful")] == -3
    assert corpus.valence[corpus.vocabulary.index("movie")] == 0
    # Order matters for some reviews: counting valences without the phrases gets some wrong.
    bag = corpus.valence[tokens].sum(axis=1)
    assert 0.8 < np.mean((bag > 0) == labels) < 1.0
    # Zipf: the commonest neutral word is far more frequent than a rare one.
    counts = np.bincount(tokens.ravel(), minlength=300)
    assert counts[corpus.vocabulary.index("the")] > 20 * counts[299]
    again = synthetic_sentiment(n_train=3000, n_test=200, vocab_size=300, min_length=5,
                                     max_length=30, phrase_rate=0.05, seed=3)
    np.testing.assert_array_equal(again.train.tokens, tokens)
    assert "synthetic" in corpus.source
    np.testing.assert_array_equal(corpus.decode(corpus.encode("a not GOOD movie")), ["a", "not", "good", "movie"])


def test_synthetic_bad_inputs():
    with pytest.raises(ValueError, match="max_length"):
        synthetic_sentiment(min_length=10, max_length=5)
    with pytest.raises(ValueError, match="vocab_size"):
        synthetic_sentiment(vocab_size=20)
    with pytest.raises(ValueError, match="agreement"):
        synthetic_sentiment(agreement=1.5)
    with pytest.raises(TypeError, match="n_train"):
        synthetic_sentiment(n_train="many")
    with pytest.raises(TypeError, match="text"):
        synthetic_sentiment(n_train=10, n_test=10).encode(3)
