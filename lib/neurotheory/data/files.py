"""Files on disk: checked downloads into one cache, safe archive extraction, packaged files.

Every file is verified by SHA-256 and written atomically: a download goes to a temporary
file beside its target and is renamed into place only when its checksum matches, so an
interrupted or corrupted download leaves nothing behind. Nothing here unpickles.

The cache is ``$NEUROTHEORY_DATA`` (default ``~/.cache/neurotheory``). Without network,
:func:`fetch` raises :class:`DataUnavailable` with one line saying what is missing; chapters
catch it and run on their documented synthetic stand-in.
"""

from __future__ import annotations

import hashlib
import os
import socket
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from neurotheory import runtime

CHUNK = 1 << 20


class DataUnavailable(RuntimeError):
    """A data set cannot be had here (no network, or the source is gone)."""


class ChecksumMismatch(ValueError):
    """A file's SHA-256 differs from the expected one."""


class UnsafeArchive(ValueError):
    """An archive member would land outside the extraction folder."""


def cache_dir() -> Path:
    """The data cache folder, created if needed."""
    root = Path(os.environ.get("NEUROTHEORY_DATA") or Path.home() / ".cache" / "neurotheory")
    root.mkdir(parents=True, exist_ok=True)
    return root


def _check_sha256(sha256: str) -> str:
    if not isinstance(sha256, str) or len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256.lower()):
        raise ValueError(f"sha256 must be 64 hexadecimal characters, got {sha256!r}")
    return sha256.lower()


def sha256_of(path: str | os.PathLike) -> str:
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(path: str | os.PathLike, sha256: str) -> Path:
    """Return ``path`` if its SHA-256 is ``sha256``; raise :class:`ChecksumMismatch` if not."""
    expected = _check_sha256(sha256)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    actual = sha256_of(path)
    if actual != expected:
        raise ChecksumMismatch(f"{path.name}: SHA-256 is {actual}, expected {expected}")
    return path


def fetch(url: str, sha256: str, filename: str, *, timeout: float = 30.0) -> Path:
    """Download ``url`` into the cache as ``filename``, verified, and return its path.

    A cached file with the right checksum is returned without touching the network; one with
    the wrong checksum is downloaded again. Raises :class:`DataUnavailable` when the URL
    cannot be reached and :class:`ChecksumMismatch` when the download differs from ``sha256``;
    in both cases nothing is left in the cache.
    """
    expected = _check_sha256(sha256)
    if not isinstance(url, str) or "://" not in url:
        raise ValueError(f"url must be an absolute URL, got {url!r}")
    if not filename or Path(filename).name != filename or filename in (".", ".."):
        raise ValueError(f"filename must be a plain file name, got {filename!r}")
    target = cache_dir() / filename
    if target.is_file() and sha256_of(target) == expected:
        return target
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{filename}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            try:
                response = urllib.request.urlopen(url, timeout=timeout)
            except (urllib.error.URLError, socket.timeout, ConnectionError, OSError) as err:
                reason = getattr(err, "reason", err)
                raise DataUnavailable(f"cannot download {filename} from {url} ({reason}); "
                                      "no network here? Chapters fall back to a synthetic stand-in.") from None
            with response:
                total = int(response.headers.get("Content-Length") or 0) or None
                blocks = iter(lambda: response.read(CHUNK), b"")
                for block in runtime.progress(blocks, desc=filename, total=total and -(-total // CHUNK)):
                    digest.update(block)
                    out.write(block)
        if digest.hexdigest() != expected:
            raise ChecksumMismatch(f"{filename} from {url}: SHA-256 is {digest.hexdigest()}, expected {expected}")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _inside(root: Path, candidate: Path) -> bool:
    root = root.resolve()
    resolved = candidate.resolve()
    return resolved == root or root in resolved.parents


def _check_tar_member(member: tarfile.TarInfo, dest: Path) -> None:
    target = dest / member.name
    if member.name.startswith("/") or not _inside(dest, target):
        raise UnsafeArchive(f"archive member {member.name!r} would land outside {dest}")
    if member.issym():
        link = target.parent / member.linkname
        if member.linkname.startswith("/") or not _inside(dest, link):
            raise UnsafeArchive(f"archive member {member.name!r} links outside {dest} (to {member.linkname!r})")
    elif member.islnk():
        if member.linkname.startswith("/") or not _inside(dest, dest / member.linkname):
            raise UnsafeArchive(f"archive member {member.name!r} links outside {dest} (to {member.linkname!r})")
    elif not (member.isfile() or member.isdir()):
        raise UnsafeArchive(f"archive member {member.name!r} is a device or pipe; refused")


def extract(archive: str | os.PathLike, dest: str | os.PathLike) -> Path:
    """Extract a .tar(.gz|.bz2|.xz) or .zip archive into ``dest`` and return ``dest``.

    Every member is checked before anything is written: absolute paths, ``..`` escapes, links
    pointing outside ``dest`` and device files raise :class:`UnsafeArchive`.
    """
    archive = Path(archive)
    dest = Path(dest)
    if not archive.is_file():
        raise FileNotFoundError(f"archive {archive} does not exist")
    dest.mkdir(parents=True, exist_ok=True)
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            for name in z.namelist():
                if name.startswith("/") or not _inside(dest, dest / name):
                    raise UnsafeArchive(f"archive member {name!r} would land outside {dest}")
            z.extractall(dest)
        return dest
    if not tarfile.is_tarfile(archive):
        raise ValueError(f"{archive} is neither a tar nor a zip archive")
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
        for member in members:
            _check_tar_member(member, dest)
        if hasattr(tarfile, "data_filter"):
            tar.extractall(dest, members=members, filter="data")
        else:
            tar.extractall(dest, members=members)
    return dest


def package_file(distribution: str, relative_path: str, sha256: str) -> Path:
    """A data file shipped inside an installed PyPI distribution, verified, without importing it.

    Looks the file up in the distribution's installed file list (``importlib.metadata``), so a
    package whose ``__init__`` fails to import can still lend its data. Raises
    :class:`DataUnavailable` when the distribution is not installed.
    """
    from importlib import metadata

    try:
        dist = metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        raise DataUnavailable(f"{relative_path} ships with the package {distribution!r}, which is not "
                              f"installed (pip install {distribution})") from None
    wanted = relative_path.replace("\\", "/")
    for file in dist.files or ():
        if str(file).replace("\\", "/") == wanted:
            return verify(Path(dist.locate_file(file)), sha256)
    raise DataUnavailable(f"{distribution} is installed but has no file {relative_path}")
