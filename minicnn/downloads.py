"""Files fetched once and cached: Keras's ``utils.get_file``, for the real data sets.

``get_file`` keeps Keras 3's signature and cache layout (``<cache_dir>/<cache_subdir>/
<fname>``, archives extracted beside them), with minicnn's own cache root:
``$MINICNN_HOME`` when set, else ``~/.minicnn``. A download goes to a temporary file in
the cache folder and is renamed into place only once complete and, when ``file_hash`` is
given, verified, so an interrupted or corrupted download never leaves a file that looks
cached. Archives are extracted with Python's ``"data"`` filter for tar (no absolute
paths, no links out of the folder, no device files) and a name check for zip.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile

from tqdm.auto import tqdm

CHUNK = 1 << 16


def minicnn_home() -> str:
    """The cache root: ``$MINICNN_HOME``, else ``~/.minicnn``."""
    return os.environ.get("MINICNN_HOME") or os.path.join(os.path.expanduser("~"), ".minicnn")


def hash_file(fpath, algorithm: str = "sha256", chunk_size: int = CHUNK) -> str:
    """The hex digest of the file at ``fpath`` (``"sha256"`` or ``"md5"``).

    Parameters
    ----------
    fpath : path
    algorithm : ``"sha256"`` or ``"md5"``
    chunk_size : int
        Bytes read at a time.

    Returns
    -------
    The hex digest.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "f"); _ = open(path, "wb").write(b"abc")
    >>> hash_file(path)[:16]
    'ba7816bf8f01cfea'
    """
    hasher = _hasher(algorithm)
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(fpath, file_hash: str, algorithm: str = "auto") -> bool:
    """Whether the file's hash equals ``file_hash`` (``"auto"``: sha256 for 64 hex
    characters, md5 otherwise, as Keras decides).

    Parameters
    ----------
    fpath : path
    file_hash : str
        The expected hex digest.
    algorithm : ``"auto"``, ``"sha256"`` or ``"md5"``

    Returns
    -------
    True when they match.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "f"); _ = open(path, "wb").write(b"abc")
    >>> validate_file(path, "900150983cd24fb0d6963f7d28e17f72")  # md5 of b'abc'
    True
    """
    return hash_file(fpath, _algorithm(algorithm, file_hash)) == str(file_hash).lower()


def get_file(
    fname=None,
    origin=None,
    untar=False,
    md5_hash=None,
    file_hash=None,
    cache_subdir="datasets",
    hash_algorithm="auto",
    extract=False,
    archive_format="auto",
    cache_dir=None,
    force_download=False,
) -> str:
    """Download ``origin`` into the cache unless it is already there; return its path.

    Parameters
    ----------
    fname : the local file name (default: the last part of ``origin``'s path); with
        ``extract``, a name without a dot names the extraction folder.
    origin : the URL to download from (``http``, ``https`` or ``file``).
    untar, md5_hash : Keras's deprecated spellings of ``extract=True`` and
        ``file_hash=...`` with ``hash_algorithm="md5"``.
    file_hash : the expected sha256 (or md5) hex digest. A cached file that does not
        match is downloaded again; a download that does not match is deleted and a
        ValueError raised.
    cache_subdir : folder under ``cache_dir`` (an absolute path is used as it is).
    hash_algorithm : ``"auto"``, ``"sha256"`` or ``"md5"``.
    extract : extract a tar or zip archive and return the folder it was extracted to.
    archive_format : ``"auto"`` (tar, then zip), ``"tar"``, ``"zip"``.
    cache_dir : the cache root (default ``$MINICNN_HOME`` or ``~/.minicnn``).
    force_download : download even when a cached file exists.

    Returns
    -------
    The path of the file (or, with ``extract``, of the extraction folder).

    Examples
    --------
    >>> path = get_file("mnist.npz", "https://storage.googleapis.com/tensorflow/"
    ...                 "tf-keras-datasets/mnist.npz", file_hash="731c5ac6...")  # doctest: +SKIP
    """
    if origin is None:
        raise ValueError(
            'get_file: specify the "origin" argument (the URL of the file to download).'
        )
    scheme = urllib.parse.urlsplit(str(origin)).scheme
    if scheme not in ("http", "https", "file"):
        raise ValueError(
            f"get_file: `origin` must be an http, https or file URL. Received: {origin!r}"
        )
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    algorithm = _algorithm(hash_algorithm, file_hash)
    extract = bool(extract or untar)
    if extract and archive_format is None:
        raise ValueError("get_file: `archive_format=None` extracts nothing; pass 'auto'.")
    formats = _archive_formats(archive_format)
    if fname is None or fname == "":
        fname = os.path.basename(urllib.parse.urlsplit(str(origin)).path)
        if not fname:
            raise ValueError(
                f"get_file: cannot tell a file name from `origin` {origin!r}; pass `fname`."
            )
    fname = os.fspath(fname)
    if os.sep in fname or (os.altsep and os.altsep in fname) or fname in (".", ".."):
        raise ValueError(
            "get_file: `fname` is a file name, not a path; to choose the folder, use "
            f"`cache_dir`. Received: fname={fname!r}"
        )
    folder = os.path.join(os.path.expanduser(os.fspath(cache_dir or minicnn_home())), cache_subdir)
    os.makedirs(folder, exist_ok=True)
    if extract and "." in fname:
        target = os.path.join(folder, fname)
        extracted = os.path.join(folder, fname[: fname.find(".")] + "_extracted")
    elif extract:
        target = os.path.join(folder, f"{fname}_archive")
        extracted = os.path.join(folder, fname)
    else:
        target, extracted = os.path.join(folder, fname), None

    download = force_download or not os.path.exists(target)
    if not download and file_hash is not None and not validate_file(target, file_hash, algorithm):
        print(
            f"A local file was found at {target}, but its {algorithm} hash does not match "
            f"{file_hash}; downloading it again."
        )
        download = True
    if download:
        _download(str(origin), target, file_hash, algorithm)
        if extracted is not None and os.path.exists(extracted):
            shutil.rmtree(extracted)  # stale: made from an earlier archive
    if extracted is None:
        return target
    if not os.path.isdir(extracted):
        _extract(target, extracted, formats)
    return extracted


def _download(origin: str, target: str, file_hash, algorithm: str) -> None:
    """``origin`` to ``target`` through a temporary file in the same folder: renamed into
    place only when complete and verified."""
    print(f"Downloading data from {origin}")
    handle, partial = tempfile.mkstemp(dir=os.path.dirname(target), suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            try:
                with urllib.request.urlopen(origin, timeout=60) as response:
                    total = response.headers.get("Content-Length")
                    with tqdm(
                        total=int(total) if total and total.isdigit() else None,
                        unit="B",
                        unit_scale=True,
                        desc=os.path.basename(target),
                        leave=False,
                    ) as bar:
                        for chunk in iter(lambda: response.read(CHUNK), b""):
                            out.write(chunk)
                            bar.update(len(chunk))
            except urllib.error.HTTPError as err:
                raise ConnectionError(
                    f"URL fetch failure on {origin}: {err.code} -- {err.reason}"
                ) from None
            except (urllib.error.URLError, OSError) as err:
                reason = getattr(err, "reason", err)
                raise ConnectionError(
                    f"URL fetch failure on {origin}: {reason}. If this machine is offline, "
                    f"download the file elsewhere and put it at {target}."
                ) from None
        if file_hash is not None and not validate_file(partial, file_hash, algorithm):
            raise ValueError(
                f"Incomplete or corrupted file detected: the {algorithm} hash of the file "
                f"downloaded from {origin} does not match the expected value {file_hash}; "
                "nothing was kept."
            )
        os.replace(partial, target)
    except BaseException:
        if os.path.exists(partial):
            os.remove(partial)
        raise


def _extract(archive: str, folder: str, formats: list[str]) -> None:
    """Extract ``archive`` into ``folder`` (made through a temporary folder, renamed once
    complete), refusing members that would land outside it."""
    partial = tempfile.mkdtemp(dir=os.path.dirname(folder), suffix=".part")
    try:
        for kind in formats:
            if kind == "tar" and tarfile.is_tarfile(archive):
                with tarfile.open(archive) as tar:
                    try:
                        tar.extractall(partial, filter="data")
                    except tarfile.FilterError as err:
                        raise ValueError(
                            f"get_file: archive {archive} holds a member that is unsafe to "
                            f"extract ({err}); nothing was extracted."
                        ) from None
                break
            if kind == "zip" and zipfile.is_zipfile(archive):
                with zipfile.ZipFile(archive) as z:
                    for name in z.namelist():
                        path = os.path.realpath(os.path.join(partial, name))
                        if not path.startswith(os.path.realpath(partial) + os.sep):
                            raise ValueError(
                                f"get_file: archive {archive} holds {name!r}, which would be "
                                "written outside its folder; nothing was extracted."
                            )
                    z.extractall(partial)
                break
        else:
            raise ValueError(
                f"get_file: {archive} is not a {' or '.join(formats)} archive, so it cannot "
                "be extracted."
            )
        os.replace(partial, folder)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


def _hasher(algorithm: str):
    if algorithm not in ("sha256", "md5"):
        raise ValueError(
            f"get_file: `hash_algorithm` must be 'auto', 'sha256' or 'md5'. Received: {algorithm!r}"
        )
    return hashlib.sha256() if algorithm == "sha256" else hashlib.md5()


def _algorithm(algorithm: str, file_hash) -> str:
    if algorithm == "auto":
        return "sha256" if file_hash is not None and len(str(file_hash)) == 64 else "md5"
    _hasher(algorithm)
    return algorithm


def _archive_formats(archive_format) -> list[str]:
    if archive_format == "auto":
        return ["tar", "zip"]
    formats = [archive_format] if isinstance(archive_format, str) else list(archive_format)
    if not formats or any(f not in ("tar", "zip") for f in formats):
        raise ValueError(
            "get_file: `archive_format` must be 'auto', 'tar', 'zip' or a list of them. "
            f"Received: {archive_format!r}"
        )
    return formats
