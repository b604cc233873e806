import hashlib
import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from neurotheory import data


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NEUROTHEORY_DATA", str(tmp_path / "cache"))
    return tmp_path / "cache"


def served(tmp_path, payload: bytes, name="payload.bin"):
    source = tmp_path / name
    source.write_bytes(payload)
    return source.as_uri(), hashlib.sha256(payload).hexdigest()


def test_fetch_downloads_verifies_and_caches(tmp_path, cache):
    url, sha = served(tmp_path, b"neurotheory" * 1000)
    path = data.fetch(url, sha, "file.bin")
    assert path == cache / "file.bin" and path.read_bytes() == b"neurotheory" * 1000
    (tmp_path / "payload.bin").unlink()                 # now only the cache has it
    assert data.fetch(url, sha, "file.bin") == path


def test_checksum_mismatch_leaves_nothing(tmp_path, cache):
    url, _ = served(tmp_path, b"tampered")
    with pytest.raises(data.ChecksumMismatch, match="expected"):
        data.fetch(url, "0" * 64, "file.bin")
    assert list(cache.iterdir()) == []


def test_corrupt_cache_is_replaced(tmp_path, cache):
    url, sha = served(tmp_path, b"good bytes")
    cache.mkdir(parents=True, exist_ok=True)
    (cache / "file.bin").write_bytes(b"bad bytes")
    assert data.fetch(url, sha, "file.bin").read_bytes() == b"good bytes"


def test_offline_fetch_raises_data_unavailable(cache):
    with pytest.raises(data.DataUnavailable, match="cannot download file.bin") as err:
        data.fetch("http://nonexistent.invalid/file.bin", "a" * 64, "file.bin", timeout=5)
    assert "\n" not in str(err.value)
    assert list(cache.iterdir()) == []


def test_interrupted_download_leaves_nothing(tmp_path, cache, monkeypatch):
    url, sha = served(tmp_path, b"x" * (3 << 20))

    class Broken(io.BytesIO):
        headers = {}

        def read(self, n=-1):
            raise ConnectionResetError("connection dropped")

    monkeypatch.setattr(data.files.urllib.request, "urlopen", lambda *a, **k: Broken())
    with pytest.raises(ConnectionResetError):
        data.fetch(url, sha, "file.bin")
    assert list(cache.iterdir()) == []


@pytest.mark.parametrize("kwargs, match", [
    (dict(url="not a url", sha256="a" * 64, filename="f"), "url"),
    (dict(url="file:///x", sha256="xyz", filename="f"), "sha256"),
    (dict(url="file:///x", sha256="a" * 64, filename="../f"), "filename"),
])
def test_fetch_validates_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        data.fetch(**kwargs)


def make_tar(path: Path, members):
    with tarfile.open(path, "w:gz") as tar:
        for name, kind, target in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = len(target)
                tar.addfile(info, io.BytesIO(target))
            else:
                info.type = tarfile.SYMTYPE if kind == "symlink" else tarfile.LNKTYPE
                info.linkname = target
                tar.addfile(info)
    return path


def test_extract_safe_tar(tmp_path):
    archive = make_tar(tmp_path / "ok.tar.gz", [("d/a.txt", "file", b"A"), ("d/link", "symlink", "a.txt")])
    dest = data.extract(archive, tmp_path / "out")
    assert (dest / "d" / "a.txt").read_bytes() == b"A"


@pytest.mark.parametrize("members", [
    [("../escape.txt", "file", b"x")],
    [("/abs.txt", "file", b"x")],
    [("d/../../escape.txt", "file", b"x")],
    [("link", "symlink", "../../etc/passwd")],
    [("link", "symlink", "/etc/passwd")],
    [("hard", "hardlink", "../outside")],
])
def test_extract_refuses_escapes(tmp_path, members):
    archive = make_tar(tmp_path / "bad.tar.gz", members)
    with pytest.raises(data.UnsafeArchive):
        data.extract(archive, tmp_path / "out")
    assert not (tmp_path / "escape.txt").exists()
    assert not any((tmp_path / "out").iterdir())


def test_extract_zip_and_refuses_zip_escape(tmp_path):
    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w") as z:
        z.writestr("a/b.txt", "B")
    assert (data.extract(good, tmp_path / "z") / "a" / "b.txt").read_text() == "B"
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("../evil.txt", "E")
    with pytest.raises(data.UnsafeArchive):
        data.extract(bad, tmp_path / "z2")
    assert not (tmp_path / "evil.txt").exists()


def test_verify_and_package_file(tmp_path):
    p = tmp_path / "f"
    p.write_bytes(b"abc")
    assert data.verify(p, hashlib.sha256(b"abc").hexdigest()) == p
    with pytest.raises(data.ChecksumMismatch):
        data.verify(p, "0" * 64)
    with pytest.raises(data.DataUnavailable, match="pip install"):
        data.package_file("no-such-distribution-xyz", "a.txt", "0" * 64)
    from importlib import metadata

    dist = metadata.distribution("pytest")
    shipped = next(str(f) for f in dist.files if str(f).endswith("METADATA"))
    sha = data.sha256_of(dist.locate_file(shipped))
    assert data.package_file("pytest", shipped, sha).is_file()
    with pytest.raises(data.DataUnavailable, match="has no file"):
        data.package_file("pytest", "no/such/file.mat", sha)


def test_no_pickle_in_library():
    """Nothing in the library unpickles: no pickle module, every np.load refuses pickles."""
    root = Path(data.__file__).resolve().parents[1]
    for source in root.rglob("*.py"):
        for number, line in enumerate(source.read_text().splitlines(), 1):
            assert "import pickle" not in line, f"{source}:{number}"
            if "np.load(" in line:
                assert "allow_pickle=False" in line, f"{source}:{number} must pass allow_pickle=False"


def test_loaders_stay_callable_after_first_use():
    import importlib

    import neurotheory.data as package

    for loader, module in package._LOADERS.items():
        assert loader != module, f"submodule {module!r} would shadow the loader {loader!r}"
        importlib.import_module(f"neurotheory.data.{module}")
        assert callable(getattr(data, loader)), loader
