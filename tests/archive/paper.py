"""A small archive room for tests: K01 → K01-C → K01-C-01 → K01-C-01-1 with boxes B001, B002."""

from dangan.archive.paper.locations import add_location


def build_room(session, actor="keeper", boxes=("B001", "B002")):
    add_location(session, "K01", "room", name="一号库房", actor=actor)
    add_location(session, "K01-C", "zone", parent="K01", name="库存区", actor=actor)
    add_location(session, "K01-C-01", "rack", parent="K01-C", actor=actor)
    add_location(session, "K01-C-01-1", "shelf", parent="K01-C-01", actor=actor)
    for b in boxes:
        add_location(session, b, "box", parent="K01-C-01-1", actor=actor)
