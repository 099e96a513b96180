"""The floor of `scholar-stats fetch`: the same requests by a bare httpx client, in a process of their own.

    python bench/floor_fetch.py BASE_URL SCHOLAR_ID PUBLICATIONS

Fetches `BASE_URL/citations?user=SCHOLAR_ID&hl=en&pagesize=100` and the next
pages (`&cstart=100`, `200`, ...), as many as PUBLICATIONS needs, one after
the other with one `httpx.Client`; the bodies are read and dropped.  No
parsing, no checks, nothing printed but the number of bytes.
`bench_fetch_process.py` times it beside `scholar-stats fetch`.
"""

from __future__ import annotations

import sys

import httpx


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: python bench/floor_fetch.py BASE_URL SCHOLAR_ID PUBLICATIONS", file=sys.stderr)
        return 2
    base_url, scholar_id, publications = argv[0], argv[1], int(argv[2])
    received = 0
    with httpx.Client(timeout=30) as client:
        for cstart in range(0, max(publications, 1), 100):
            params: dict[str, str | int] = {"user": scholar_id, "hl": "en", "pagesize": 100}
            if cstart:
                params["cstart"] = cstart
            received += len(client.get(f"{base_url}/citations", params=params).content)
    print(received)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
