import json

import pytest

from dangan.indexing import backend as backend_module
from dangan.indexing.backend import MARKER_FILE, IndexNeedsRebuild
from dangan.indexing.backends import open_backend
from tests.indexing.conftest import BACKENDS, page


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("key", ["analyzer_version", "schema_version"])
def test_needs_rebuild_when_a_version_changed(tmp_path, name, key):
    index = open_backend(tmp_path, name)
    index.add([page("p1", "供用电合同")])
    assert not index.needs_rebuild()
    index.close()

    marker = tmp_path / MARKER_FILE
    data = json.loads(marker.read_text())
    data[key] -= 1  # as if built by an older dangan
    marker.write_text(json.dumps(data))

    reopened = open_backend(tmp_path, name)
    assert reopened.needs_rebuild()
    with pytest.raises(IndexNeedsRebuild, match="rebuild"):
        reopened.search("合同")
    reopened.clear()
    assert not reopened.needs_rebuild() and reopened.count() == 0
    reopened.add([page("p2", "供用电合同")])
    assert [h.page_id for h in reopened.search("合同").hits] == ["p2"]


@pytest.mark.parametrize("name", BACKENDS)
def test_code_version_bump_is_detected(tmp_path, name, monkeypatch):
    open_backend(tmp_path, name).close()
    monkeypatch.setattr(backend_module, "ANALYZER_VERSION", backend_module.ANALYZER_VERSION + 1)
    assert open_backend(tmp_path, name).needs_rebuild()
