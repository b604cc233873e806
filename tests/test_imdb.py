"""The IMDB loader on small archives in the official layout, and the synthetic corpus."""

import io
import tarfile

import numpy as np
import pytest

from neurotheory import data
from neurotheory.data import reviews as imdb_module
from neurotheory.data.reviews import imdb, synthetic_sentiment, tokenize

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


def write_archive(path, reviews):
    """A gzipped tar holding ``reviews`` (member name → text), as the official archive is laid out."""
    with tarfile.open(path, "w:gz") as tar:
        for name, text in reviews.items():
            payload = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return path


def contents(corpus, split):
    """The (label, words) of every review in a split, as a sorted list: the split up to order."""
    reviews = getattr(corpus, split)
    return sorted((int(label), tuple(corpus.decode(ids))) for ids, label in zip(reviews.tokens, reviews.labels))


@pytest.fixture
def archive(tmp_path, monkeypatch):
    monkeypatch.setenv("NEUROTHEORY_DATA", str(tmp_path / "cache"))
    return write_archive(tmp_path / "aclImdb_v1.tar.gz", REVIEWS)


@pytest.fixture
def large_archive(tmp_path, monkeypatch):
    """40 training and 40 test reviews, half positive, each naming its polarity and number."""
    monkeypatch.setenv("NEUROTHEORY_DATA", str(tmp_path / "cache"))
    reviews = {f"aclImdb/{split}/{polarity}/{k}_{7 if polarity == 'pos' else 2}.txt":
               f"{'great' if polarity == 'pos' else 'awful'} film {polarity} number{k}"
               for split in ("train", "test") for polarity in ("pos", "neg") for k in range(20)}
    return write_archive(tmp_path / "aclImdb_v1.tar.gz", reviews)


def test_parses_the_official_layout(archive):
    corpus = imdb(archive=archive, sha256=data.sha256_of(archive), vocab_size=8, max_length=6)
    # Training words by frequency: great 4; acting, awful, film, it 2; then a, ... (ties alphabetical).
    assert corpus.vocabulary == ("<pad>", "<unk>", "great", "acting", "awful", "film", "it", "a")
    assert len(corpus.train) == 4 and len(corpus.test) == 2
    assert contents(corpus, "train") == [
        (0, ("<unk>",)),
        (0, ("awful", "film", "awful", "acting", "<unk>", "<unk>")),
        (1, ("<unk>", "it", "great", "<unk>")),
        (1, ("a", "great", "film", "great", "acting", "great")),
    ]
    assert contents(corpus, "test") == [(0, ("<unk>", "awful", "<unk>", "<unk>")), (1, ("great", "great", "film"))]
    assert corpus.train.tokens.shape == (4, 6) and corpus.train.tokens.dtype == np.int32
    np.testing.assert_array_equal(np.sort(corpus.train.lengths), [1, 4, 6, 6])
    assert "didn't" in tokenize("I didn't<br />LIKE it")
    assert "IMDB" in corpus.source and corpus.valence is None
    again = imdb(archive=archive, sha256=data.sha256_of(archive), vocab_size=8, max_length=6)
    np.testing.assert_array_equal(again.train.tokens, corpus.train.tokens)
    np.testing.assert_array_equal(again.train.labels, corpus.train.labels)
    np.testing.assert_array_equal(again.test.tokens, corpus.test.tokens)
    assert again.vocabulary == corpus.vocabulary


def test_splits_come_back_shuffled_by_seed(large_archive, tmp_path, monkeypatch):
    sha = data.sha256_of(large_archive)
    corpus = imdb(archive=large_archive, sha256=sha, vocab_size=100, max_length=10)
    for split in ("train", "test"):
        reviews = getattr(corpus, split)
        assert len(reviews) == 40 and reviews.labels.sum() == 20
        assert set(reviews.labels[:10]) == {0, 1}, f"the first quarter of {split} holds one label only"
        words = [corpus.decode(ids) for ids in reviews.tokens]
        assert all(w[:3] == (["great", "film", "pos"] if label else ["awful", "film", "neg"])
                   for w, label in zip(words, reviews.labels))
        assert len({tuple(w) for w in words}) == 40
    assert list(data.cache_dir().glob("imdb-*-s0.npz"))
    cached = imdb(archive=large_archive, sha256=sha, vocab_size=100, max_length=10)
    monkeypatch.setenv("NEUROTHEORY_DATA", str(tmp_path / "fresh cache"))
    rebuilt = imdb(archive=large_archive, sha256=sha, vocab_size=100, max_length=10)
    other = imdb(archive=large_archive, sha256=sha, vocab_size=100, max_length=10, seed=1)
    for split in ("train", "test"):
        for again in (cached, rebuilt):
            np.testing.assert_array_equal(getattr(again, split).tokens, getattr(corpus, split).tokens)
            np.testing.assert_array_equal(getattr(again, split).labels, getattr(corpus, split).labels)
        assert contents(other, split) == contents(corpus, split)
        assert not np.array_equal(getattr(other, split).tokens, getattr(corpus, split).tokens)


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
    with pytest.raises(ValueError, match="seed"):
        imdb(archive=archive, seed=-1)
    corpus = imdb(archive=archive, sha256=data.sha256_of(archive))
    with pytest.raises(ValueError, match="valence"):
        corpus.valence_count(corpus.train.tokens)
    with pytest.raises(ValueError, match="phrase_score"):
        corpus.phrase_score(corpus.train.tokens)


def test_synthetic_corpus_has_its_stated_ground_truth():
    corpus = synthetic_sentiment(n_train=3000, n_test=200, vocab_size=300, min_length=20, max_length=60,
                                 label_noise=0, seed=3)
    tokens, labels = corpus.train.tokens, corpus.train.labels
    assert tokens.shape == (3000, 60) and len(corpus.test) == 200
    lengths = corpus.train.lengths
    assert np.all(tokens[np.arange(60) >= lengths[:, None]] == 0)
    scores = corpus.phrase_score(tokens)
    np.testing.assert_array_equal(labels, scores > 0)
    assert np.all(scores != 0)
    assert 0.45 < labels.mean() < 0.55
    assert corpus.valence[corpus.vocabulary.index("excellent")] == 3
    assert corpus.valence[corpus.vocabulary.index("awful")] == -3
    assert corpus.valence[corpus.vocabulary.index("movie")] == 0
    # Sparse sentiment words, milder ones more frequent (magnitude k with probability ∝ 1/k).
    is_word = tokens != 0
    magnitude = np.abs(corpus.valence[tokens[is_word]])
    assert abs(np.mean(magnitude > 0) - 0.09) < 0.005
    np.testing.assert_allclose(np.bincount(magnitude.astype(int))[1:] / np.sum(magnitude > 0),
                               np.array([6, 3, 2]) / 11, atol=0.02)
    # A modifier always stands right before a sentiment word, never at the end or in a chain.
    modifier = np.isin(tokens, [corpus.vocabulary.index("not"), corpus.vocabulary.index("very")])
    assert modifier.any() and not modifier[:, -1].any()
    assert np.all(corpus.valence[tokens[:, 1:][modifier[:, :-1]]] != 0)
    # Zipf: the commonest neutral word is far more frequent than a rare one.
    counts = np.bincount(tokens.ravel(), minlength=300)
    assert counts[corpus.vocabulary.index("the")] > 20 * counts[299]
    again = synthetic_sentiment(n_train=3000, n_test=200, vocab_size=300, min_length=20, max_length=60,
                                label_noise=0, seed=3)
    np.testing.assert_array_equal(again.train.tokens, tokens)
    np.testing.assert_array_equal(again.test.labels, corpus.test.labels)
    other = synthetic_sentiment(n_train=3000, n_test=200, vocab_size=300, min_length=20, max_length=60,
                                label_noise=0, seed=4)
    assert not np.array_equal(other.train.tokens, tokens)
    assert "synthetic" in corpus.source
    np.testing.assert_array_equal(corpus.decode(corpus.encode("a not GOOD movie")), ["a", "not", "good", "movie"])


def test_synthetic_labels_are_the_phrase_aware_sign_up_to_label_noise():
    n, noise = 20_000, 0.05
    corpus = synthetic_sentiment(n_train=n, n_test=10, min_length=20, max_length=80, label_noise=noise, seed=1)
    disagree = np.mean((corpus.phrase_score(corpus.train.tokens) > 0) != corpus.train.labels)
    assert abs(disagree - noise) < 4 * np.sqrt(noise * (1 - noise) / n)


def test_synthetic_lengths_are_uniform_between_the_bounds():
    corpus = synthetic_sentiment(n_train=4000, n_test=10, seed=2)
    lengths = corpus.train.lengths
    assert 50 <= lengths.min() < 55 and 395 < lengths.max() <= 400
    assert corpus.train.tokens.shape[1] == 400
    share = np.histogram(lengths, bins=7, range=(50, 401))[0] / 4000
    assert np.all(np.abs(share - 1 / 7) < 4 * np.sqrt((1 / 7) * (6 / 7) / 4000))


def test_bag_of_valences_loses_to_the_phrases():
    corpus = synthetic_sentiment(n_train=4000, n_test=10, seed=5)
    tokens, labels = corpus.train.tokens, corpus.train.labels
    oracle = np.mean((corpus.phrase_score(tokens) > 0) == labels)
    bag = np.mean((corpus.valence_count(tokens) > 0) == labels)
    assert abs(oracle - 0.95) < 0.015
    assert oracle - bag > 0.02
    # Test of the test: without the phrases the order-blind count is the ground truth.
    plain = synthetic_sentiment(n_train=500, n_test=10, phrase_rate=0, seed=5)
    np.testing.assert_array_equal(plain.valence_count(plain.train.tokens), plain.phrase_score(plain.train.tokens))


def test_valence_count_sums_word_valences_ignoring_order():
    corpus = synthetic_sentiment(n_train=10, n_test=10)
    np.testing.assert_array_equal(corpus.valence_count(corpus.encode("not good, very bad film")), -1)
    np.testing.assert_array_equal(corpus.phrase_score(corpus.encode("not good, very bad film")), -5)
    np.testing.assert_array_equal(corpus.valence_count(corpus.train.tokens),
                                  corpus.valence[corpus.train.tokens].sum(axis=1))
    with pytest.raises(TypeError, match="tokens"):
        corpus.valence_count(np.ones((2, 3)))
    with pytest.raises(ValueError, match="tokens"):
        corpus.valence_count([[len(corpus.vocabulary)]])


def test_synthetic_bad_inputs():
    with pytest.raises(ValueError, match="max_length"):
        synthetic_sentiment(min_length=10, max_length=5)
    with pytest.raises(ValueError, match="vocab_size"):
        synthetic_sentiment(vocab_size=20)
    with pytest.raises(ValueError, match="agreement"):
        synthetic_sentiment(agreement=1.5)
    with pytest.raises(ValueError, match="sentiment_rate"):
        synthetic_sentiment(sentiment_rate=0)
    with pytest.raises(ValueError, match="phrase_rate"):
        synthetic_sentiment(phrase_rate=0.6)
    with pytest.raises(ValueError, match="label_noise"):
        synthetic_sentiment(label_noise=0.6)
    with pytest.raises(ValueError, match="label_noise"):
        synthetic_sentiment(label_noise=-0.1)
    with pytest.raises(TypeError, match="label_noise"):
        synthetic_sentiment(label_noise="some")
    with pytest.raises(TypeError, match="n_train"):
        synthetic_sentiment(n_train="many")
    with pytest.raises(TypeError, match="text"):
        synthetic_sentiment(n_train=10, n_test=10).encode(3)
