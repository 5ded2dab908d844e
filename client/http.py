"""The app's one way to make an HTTP request (API, rally-pack images, map tiles).

On a phone python-for-android's OpenSSL has no CA store: ``ssl.create_default_context()`` trusts
nobody there, so every https request would fail. Here the context trusts certifi's CA bundle
(Mozilla's roots, shipped inside the app), plus an own CA file when the event server has a
private CA (``--ca-file`` or the ``ca_file`` setting). No Kivy here.
"""

from __future__ import annotations

import ssl
import threading
import urllib.error
import urllib.request
from http.client import HTTPResponse
from pathlib import Path

import certifi


class CertificateNotTrusted(OSError):
    """The server's certificate does not chain to a trusted CA (or names another host)."""


def make_context(ca_file: str | Path | None = None) -> ssl.SSLContext:
    """A verifying client context: certifi's CAs, plus the certificates in ca_file (PEM).

    Raises OSError (missing file) or ssl.SSLError (no certificate in it) for a bad ca_file.
    """
    context = ssl.create_default_context(cafile=certifi.where())
    if ca_file:
        context.load_verify_locations(cafile=str(ca_file))
    return context


_lock = threading.Lock()
_context: ssl.SSLContext | None = None
_ca_file: str | None = None


def set_ca_file(ca_file: str | Path | None) -> None:
    """Trust the CA(s) in ca_file too, from now on (None: certifi's only)."""
    global _context, _ca_file
    context = make_context(ca_file)
    with _lock:
        _context, _ca_file = context, str(ca_file) if ca_file else None


def ca_file() -> str | None:
    """The extra CA file in use (None: certifi's bundle only)."""
    return _ca_file


def context() -> ssl.SSLContext:
    """The context every https request of the app uses."""
    global _context
    with _lock:
        if _context is None:
            _context = make_context(None)
        return _context


def open_url(request: urllib.request.Request | str, timeout: float) -> HTTPResponse:
    """urlopen with the app's SSL context. HTTP errors raise urllib.error.HTTPError, an
    untrusted certificate CertificateNotTrusted, other failures OSError (URLError)."""
    try:
        response: HTTPResponse = urllib.request.urlopen(request, timeout=timeout, context=context())
    except urllib.error.HTTPError:
        raise
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, ssl.SSLCertVerificationError):
            raise _untrusted(request, exc.reason) from exc
        raise
    except ssl.SSLCertVerificationError as exc:
        raise _untrusted(request, exc) from exc
    return response


def _untrusted(
    request: urllib.request.Request | str, exc: ssl.SSLCertVerificationError
) -> CertificateNotTrusted:
    url = request if isinstance(request, str) else request.full_url
    why = exc.verify_message or exc.reason or str(exc)
    return CertificateNotTrusted(f"{url}: certificate not trusted ({why})")
