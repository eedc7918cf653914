import os

import pytest

from dangan.archive.store import StoreError, sha256_bytes


def test_same_bytes_stored_once_under_their_checksum(store):
    a = store.put_bytes("masters", b"page one", ".png")
    b = store.put_bytes("masters", b"page one", ".png")
    assert a == b and a.sha256 == sha256_bytes(b"page one")
    assert store.path(a.relpath).read_bytes() == b"page one"
    assert len(list((store.root / "masters").rglob("*.png"))) == 1


def test_stored_files_are_read_only_and_no_temp_files_remain(store):
    f = store.put_bytes("masters", b"x" * 10, ".jpg")
    assert not os.access(store.path(f.relpath), os.W_OK) or os.geteuid() == 0
    assert oct(store.path(f.relpath).stat().st_mode & 0o777) == "0o444"
    assert not list(store.root.rglob(".incoming-*"))


def test_paths_outside_the_store_are_refused(store):
    with pytest.raises(StoreError):
        store.path("../../etc/passwd")
    with pytest.raises(StoreError):
        store.path("/etc/passwd")
