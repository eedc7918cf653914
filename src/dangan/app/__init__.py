"""The use cases, composed once: what the CLI, the web app and the worker all call.

A face (``dangan.cli``, ``dangan.web``) parses its input, opens an ``Archive`` and calls one
function here, then renders the result. Sessions, index handles and the classification
scheme are opened here, never in a face.

    archive   Archive: one data home, who acts, which index backend
    ingest    scan a batch and index it; rescan a page; the hot folder; shared-mode stations
    index     keep the search index in step with the database
    records   the full record view, a page, its image, search with hit boxes, the QA queue
    reports   the auditor reports, by kind
    labels    folder and box labels, cover sheets
    audit     fixity, 四性, the event log, BagIt export and import
    users     people who log in to the web app
"""

from dangan.app.archive import Archive

__all__ = ["Archive"]
