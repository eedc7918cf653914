"""dangan 档案: digitise, number, index and keep in step the paper and electronic customer
archives of an electricity supply company.

    dangan.archive    the domain and its storage (records, paper, audit, business feed)
    dangan.scanning   files in, pages through the pipeline, batches
    dangan.indexing   the full-text index
    dangan.app        the use cases the faces call
    dangan.cli, dangan.web   the faces
"""

from __future__ import annotations

from pathlib import Path

__version__ = "0.1.0"

# The classification scheme, completeness rules, import mapping and JSON Schemas: package data.
SCHEMAS_DIR = Path(__file__).resolve().parent / "schemas"
