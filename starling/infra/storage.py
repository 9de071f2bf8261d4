"""Where uploaded files live. The embedded default is a folder under the data dir; an object store can
take its place behind the same three calls."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol


class Storage(Protocol):
    def put(self, key: str, data: bytes) -> None: ...
    def path(self, key: str) -> Path | None: ...
    def delete(self, key: str) -> None: ...
    def url(self, key: str) -> str: ...


class LocalStorage:
    """Files on local disk, written atomically (temp file, fsync, rename)."""

    def __init__(self, root: Path, base_url: str):
        self.root = root.resolve()
        self.base_url = base_url.rstrip("/")

    def _file(self, key: str) -> Path:
        target = (self.root / key).resolve()
        if self.root not in target.parents:
            raise ValueError("storage key escapes the storage root")
        return target

    def put(self, key: str, data: bytes) -> None:
        target = self._file(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)

    def path(self, key: str) -> Path | None:
        try:
            target = self._file(key)
        except ValueError:
            return None
        return target if target.is_file() else None

    def delete(self, key: str) -> None:
        try:
            self._file(key).unlink(missing_ok=True)
        except ValueError:
            pass

    def url(self, key: str) -> str:
        return f"{self.base_url}/system/{key}"
