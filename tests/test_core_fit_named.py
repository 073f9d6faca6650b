"""A fit report names up to five models to unload, and says "and N more" only past five."""

from __future__ import annotations

from pieces_widgets.fit import fit_model
from pieces_widgets.models import Model

GIB = 2**30


def test_exactly_five_to_unload_are_all_named_without_a_tail():
    loaded = [Model(f"l{i}", name=f"Loaded {i}", ram=GIB, loaded=True) for i in range(5)]
    big = Model("big", name="Big", ram=10 * GIB)
    report = fit_model(big, [*loaded, big], 10 * GIB)  # 5 GiB free: unload all five
    assert report is not None and report.status == "unload" and len(report.unload) == 5
    text = str(report)
    assert text.endswith(
        "unload " + ", ".join(f"Loaded {i} (1.07 GB)" for i in range(5)) + " first."
    )
    assert "more" not in text
