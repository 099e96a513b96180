"""Bounded decompression: a response's ``Content-Encoding`` undone under a byte count.

httpx inflates a whole chunk at once (1.8 KB of ``gzip, gzip`` became 1 GiB
in one call); here each layer yields small pieces and the total is checked
after each one, so memory stays at the cap whatever the stacking.  A corrupt
stream raises ``zlib.error``: the caller decides whether that is worth a retry.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

from crawler.errors import FetchError

MAX_BODY_BYTES = 20 * 1024 * 1024
# Only what can be inflated piece by piece under a byte count is asked for; a
# server that sends anything else (br, zstd) is refused rather than trusted.
ACCEPT_ENCODING = "gzip, deflate"
# More layers than this is no honest server's doing.
MAX_ENCODING_LAYERS = 3
_INFLATE_PIECE = 64 * 1024


class _Layer:
    """One ``Content-Encoding`` layer undone in pieces of at most ``_INFLATE_PIECE`` bytes."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        # deflate is meant to be zlib-wrapped, but some servers send it raw: the
        # first bytes tell (as browsers and httpx do).
        wbits = 16 + zlib.MAX_WBITS if encoding in ("gzip", "x-gzip") else zlib.MAX_WBITS
        self._inflater = zlib.decompressobj(wbits)
        self._started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        if not self._started and data:
            self._started = True
            if self.encoding == "deflate":
                try:
                    zlib.decompressobj(zlib.MAX_WBITS).decompress(data[:2])
                except zlib.error:
                    self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        while True:
            piece = self._inflater.decompress(data, _INFLATE_PIECE)
            if piece:
                yield piece
            data = self._inflater.unconsumed_tail
            # A full piece may leave output inside zlib with no input left: ask again.
            if not data and len(piece) < _INFLATE_PIECE:
                return

    def flush(self) -> Iterator[bytes]:
        yield from self.feed(b"")
        if not self._inflater.eof and self._started:
            raise zlib.error(f"{self.encoding} stream ends early")


class Inflater:
    """Undoes a response's ``Content-Encoding`` as raw bytes arrive, counting every byte produced."""

    def __init__(self, content_encoding: str, *, limit: int = MAX_BODY_BYTES, url: str | None = None) -> None:
        names = [e.strip().lower() for e in content_encoding.split(",") if e.strip()]
        names = [e for e in names if e != "identity"]
        unknown = [e for e in names if e not in ("gzip", "x-gzip", "deflate")]
        if unknown:
            raise FetchError(
                f"the server sent Content-Encoding {unknown[0]!r}, which was not asked for", url=url
            )
        if len(names) > MAX_ENCODING_LAYERS:
            raise FetchError(f"Content-Encoding with {len(names)} layers refused", url=url)
        # The header lists the layers in the order they were applied: undo the last first.
        self.layers = [_Layer(name) for name in reversed(names)]
        self.limit = limit
        self.url = url
        self.size = 0

    def _through(self, index: int, pieces: Iterator[bytes]) -> Iterator[bytes]:
        for piece in pieces:
            if index == len(self.layers):
                self.size += len(piece)
                if self.size > self.limit:
                    raise FetchError(f"response larger than {self.limit} bytes", url=self.url)
                yield piece
            else:
                yield from self._through(index + 1, self.layers[index].feed(piece))

    def feed(self, data: bytes) -> Iterator[bytes]:
        yield from self._through(0, iter((data,)))

    def flush(self) -> Iterator[bytes]:
        for index, layer in enumerate(self.layers):
            yield from self._through(index + 1, layer.flush())

    def names(self) -> str:
        return ", ".join(layer.encoding for layer in reversed(self.layers)) or "identity"
